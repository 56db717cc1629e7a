from thoughts_common.database import database_url
from thoughts_common.migrations import run_env
from thoughts_backend import TAG
from thoughts_backend.models import Base

run_env(Base.metadata, default_url=database_url(TAG))
