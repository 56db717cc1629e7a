"""Public API: your own thoughts (token required), and everyone's with search."""

from flask import current_app, g, request
from flask_restx import Namespace, Resource, abort, fields

from thoughts_backend import paging, thoughts
from thoughts_backend.metrics import THOUGHTS_CREATED
from thoughts_common import body, contract, documents, inputs
from thoughts_common.auth import token_required

api_namespace = Namespace("api", description="Public operations")

thought_model = api_namespace.model(
    "Thought",
    {
        "id": fields.Integer(example=1),
        "username": fields.String(example="bruce"),
        "text": fields.String(example="And now, if you'll excuse me, it's time for the final countdown"),
        "timestamp": fields.String(description="UTC, ISO 8601", example="2019-05-07T13:47:34"),
    },
)
new_thought_model = api_namespace.model(
    "NewThought", {"text": documents.thought_text(description="Not blank; no NUL characters")}
)
error_model = api_namespace.model("Error", {"message": fields.String()})

PAGING_PARAMS = {
    "limit": {
        "in": "query",
        "type": "integer",
        "minimum": 1,
        "maximum": paging.MAX_LIMIT,
        "description": f"Thoughts per page (default {paging.DEFAULT_LIMIT}); ASCII digits, not empty",
    },
    "order": {
        "in": "query",
        "type": "string",
        "enum": list(paging.ORDERS),
        "default": "asc",
        "description": "asc: the oldest (smallest id) first, next pages move after; "
        "desc: the newest first, they move before",
    },
    "after": documents.position_parameter(
        "after", 'Only thoughts with a larger id; with order=asc the Link rel="next" header carries it'
    ),
    "before": documents.position_parameter(
        "before", 'Only thoughts with a smaller id; with order=desc the Link rel="next" header carries it'
    ),
}
PAGING_REFUSED = "limit, order, after or before"
# Routes take the id as text so that a bad one is a 400 with a message rather than a bare 404.
THOUGHT_ID_PARAM = {"thought_id": documents.id_parameter("path", "The thought's id")}


def parse_thought_id(raw):
    try:
        return inputs.integer(raw, "thought id", 1, contract.MAX_ID)
    except inputs.InvalidInput as exc:
        abort(400, str(exc))


def database():
    return current_app.extensions["database"]


def read_page():
    try:
        return paging.parse(request.args)
    except paging.InvalidPaging as exc:
        abort(400, str(exc))


def listing(page, page_of_thoughts):
    """The JSON array of one page, with a Link header when there is a next one."""
    rows, next_key = page_of_thoughts
    headers = {}
    if next_key is not None:
        headers["Link"] = paging.next_link(request.script_root + request.path, request.args, page, next_key)
    return [thoughts.as_dict(thought) for thought in rows], 200, headers


@api_namespace.route("/me/thoughts/")
class MyThoughts(Resource):
    @api_namespace.doc("list_my_thoughts", security="bearer", params=PAGING_PARAMS)
    @api_namespace.response(200, "Your thoughts, ordered by id (order=desc: the newest first)", [thought_model])
    @api_namespace.response(400, f"Invalid {PAGING_REFUSED}", error_model)
    @api_namespace.response(401, "Missing or invalid token", error_model)
    @token_required()
    def get(self):
        page = read_page()
        return listing(page, thoughts.for_user(database().session(), g.claims["username"], page))

    @api_namespace.doc("create_thought", security="bearer", description="Form or JSON body with text.")
    @api_namespace.expect(new_thought_model)
    @api_namespace.response(201, "Created", thought_model)
    @api_namespace.response(400, "Missing, blank or too long text", error_model)
    @api_namespace.response(401, "Missing or invalid token", error_model)
    @token_required()
    def post(self):
        text = body.fields("text")["text"]
        try:
            thought = thoughts.create_thought(database().session(), g.claims["username"], text)
        except thoughts.InvalidThought as exc:
            abort(400, str(exc))
        THOUGHTS_CREATED.inc()
        return thoughts.as_dict(thought), 201


@api_namespace.route("/thoughts/")
class Thoughts(Resource):
    @api_namespace.doc(
        "search_thoughts",
        params={
            "search": {
                "in": "query",
                "type": "string",
                "pattern": contract.NO_NUL_PATTERN,
                "description": "Case-insensitive substring of the text; % _ and \\ are literal; no NUL",
            },
            **PAGING_PARAMS,
        },
    )
    @api_namespace.response(200, "Matching thoughts, ordered by id (order=desc: the newest first)", [thought_model])
    @api_namespace.response(400, f"Invalid search, {PAGING_REFUSED}", error_model)
    def get(self):
        page = read_page()
        try:
            return listing(page, thoughts.search(database().session(), request.args.get("search", ""), page))
        except thoughts.InvalidSearch as exc:
            abort(400, str(exc))


@api_namespace.route("/thoughts/<thought_id>/")
class OneThought(Resource):
    @api_namespace.doc("get_thought", params=THOUGHT_ID_PARAM)
    @api_namespace.response(200, "The thought", thought_model)
    @api_namespace.response(400, "The id is not an integer from 1 to the largest id", error_model)
    @api_namespace.response(404, "No thought with that id", error_model)
    def get(self, thought_id):
        wanted = parse_thought_id(thought_id)
        thought = thoughts.find(database().session(), wanted)
        if thought is None:
            abort(404, f"Thought {wanted} not found")
        return thoughts.as_dict(thought)
