"""Request bodies sent as a form or as JSON, read the same way."""

from flask import request
from flask_restx import abort

from thoughts_common import inputs


def fields(*names):
    """The named fields of a JSON object or form body; absent ones are None.

    Malformed JSON or JSON that is not an object is a 400 with a message, and
    so is a text field with NUL or a lone surrogate (``inputs.check_text``).
    """
    if request.is_json:
        raw = request.get_data(cache=True)
        if not raw.strip():
            data = {}
        else:
            data = request.get_json(silent=True)
            if data is None:
                abort(400, "Malformed JSON body")
            if not isinstance(data, dict):
                abort(400, "The JSON body must be an object")
    else:
        data = request.form
    values = {name: data.get(name) for name in names}
    try:
        for name, value in values.items():
            inputs.check_text(value, name)
    except inputs.InvalidInput as exc:
        abort(400, str(exc))
    return values
