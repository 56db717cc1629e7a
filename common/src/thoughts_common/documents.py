"""The contract's rules as they appear in the backends' OpenAPI documents (flask-restx)."""

from flask_restx import fields

from thoughts_common import contract


def required_string(max_length, pattern, **details):
    """A required, non-empty string field of at most ``max_length`` characters matching ``pattern``."""
    return fields.String(required=True, min_length=1, max_length=max_length, pattern=pattern, **details)


def thought_text(**details):
    return required_string(contract.THOUGHT_MAX_LENGTH, contract.THOUGHT_PATTERN, **details)


def username(**details):
    return required_string(contract.USERNAME_MAX_LENGTH, contract.USERNAME_PATTERN, **details)


def password(**details):
    return required_string(contract.PASSWORD_MAX_LENGTH, contract.NO_NUL_PATTERN, **details)


def id_parameter(location, description, minimum=1):
    """A parameter holding a thought's id: ASCII digits from ``minimum`` to the largest id."""
    return {
        "in": location,
        "type": "integer",
        "minimum": minimum,
        "maximum": contract.MAX_ID,
        "description": f"{description}. ASCII digits, not empty",
    }


def position_parameter(name, description):
    """The keyset position ``after`` or ``before`` of a list's page (contract.position)."""
    return id_parameter("query", description, contract.POSITION_MINIMUM[name])


def path_text_parameter(description):
    """A text path parameter (contract.PATH_TEXT_PATTERN), its length inside the pattern: one segment, no NUL."""
    return {"in": "path", "type": "string", "pattern": contract.PATH_TEXT_PATTERN, "description": description}
