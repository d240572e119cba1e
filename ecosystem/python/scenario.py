"""The generated Python client against a live server.

Usage: scenario.py BASE_URL SPEC GENERATED_DIR [OPERATOR_KEY]

First checks the generated code itself: one function per operationId, named after it, and
models whose documented fields have real types (a field or a success result typed `Any` means
the spec lost a schema). Then runs a short scenario: an application, a chat, three messages,
pages, a search, an idempotent retry, an edit and a delete, the operator list, and 404s
surfaced as the typed `Problem` model.
"""

import importlib
import json
import sys
import typing
import uuid
from http import HTTPStatus
from pathlib import Path

base_url, spec_path, generated = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
operator_key = sys.argv[4] if len(sys.argv) > 4 else None
sys.path.insert(0, str(generated))

from chat_client import AuthenticatedClient, Client, models  # noqa: E402
from chat_client.types import UNSET  # noqa: E402

spec = json.loads(spec_path.read_text())


def mentions_any(hint: object) -> bool:
    """True when `Any` appears anywhere in a type hint (`Any`, `list[Any]`, `X | Any`...)."""
    if hint is typing.Any:
        return True
    return any(mentions_any(arg) for arg in typing.get_args(hint))


def check_generated_code() -> None:
    """Every operation is a module named by its operationId, every documented object schema a
    model whose fields are typed, every success result typed."""
    problems = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            op_id, tag = operation["operationId"], operation["tags"][0].lower()
            try:
                module = importlib.import_module(f"chat_client.api.{tag}.{op_id}")
            except ImportError:
                problems.append(f"{method.upper()} {path}: no function named {op_id}")
                continue
            has_content = any(
                status.startswith("2") and response.get("content")
                for status, response in operation["responses"].items()
            )
            result = typing.get_type_hints(module.sync).get("return")
            if has_content and mentions_any(result):
                problems.append(f"{op_id}: result typed {result}")
    for name, schema in spec["components"]["schemas"].items():
        if schema.get("type") != "object":
            continue
        model = getattr(models, name, None)
        if model is None:
            problems.append(f"schema {name}: no model class")
            continue
        hints = typing.get_type_hints(model, localns=vars(models))
        for field in schema["properties"]:
            attribute = {"type": "type_"}.get(field, field)
            if attribute not in hints:
                problems.append(f"{name}.{field}: missing from the model")
            elif mentions_any(hints[attribute]):
                problems.append(f"{name}.{field}: typed {hints[attribute]}")
    if problems:
        raise SystemExit("generated Python client is not fully typed:\n  " + "\n  ".join(problems))
    print(f"python: generated code typed: {len(spec['components']['schemas'])} schemas, every operation named")


def expect_problem(response, status: int, code: str) -> models.Problem:
    """The response is the documented problem: the typed model, with its fields."""
    problem = response.parsed
    assert response.status_code == status, (response.status_code, response.content)
    assert isinstance(problem, models.Problem), f"{status} not parsed as Problem: {problem!r}"
    assert problem.status == status and problem.code == code, problem
    assert problem.type_ == f"/problems/{code}" and problem.title and problem.detail, problem
    return problem


def scenario() -> None:
    # Imported here, after check_generated_code() has said which operation is missing, if any.
    from chat_client.api.applications import (
        create_application,
        delete_application,
        get_application,
        list_applications,
    )
    from chat_client.api.chats import create_chat, get_chat, join_chat, list_chats, mark_read
    from chat_client.api.messages import (
        create_message,
        delete_message,
        get_message,
        list_messages,
        update_message,
    )

    client = Client(base_url=base_url, raise_on_unexpected_status=True)

    created = create_application.sync_detailed(
        client=client, body=models.CreateApplication(name="Python scenario")
    )
    assert created.status_code == HTTPStatus.CREATED, created.content
    app = created.parsed
    assert isinstance(app, models.Application) and app.name == "Python scenario", app
    assert isinstance(app.token, uuid.UUID)
    assert created.headers["location"] == f"/api/applications/{app.token}"
    token = app.token

    chat = create_chat.sync(token, client=client)
    assert isinstance(chat, models.Chat) and chat.number == 1, chat

    bodies = ["Hello from Python", "Is the café open?", "Yes, until six"]
    numbers = []
    for body in bodies:
        message = create_message.sync(token, chat.number, client=client, body=models.MessageBody(body=body))
        assert isinstance(message, models.Message), message
        numbers.append(message.number)
    assert numbers == [1, 2, 3], numbers

    key = str(uuid.uuid4())
    first = create_message.sync_detailed(
        token, chat.number, client=client, body=models.MessageBody(body="once"), idempotency_key=key
    )
    retry = create_message.sync_detailed(
        token, chat.number, client=client, body=models.MessageBody(body="once"), idempotency_key=key
    )
    assert first.status_code == retry.status_code == HTTPStatus.CREATED
    assert first.parsed.number == retry.parsed.number == 4, (first.parsed, retry.parsed)
    assert retry.headers.get("idempotent-replayed") == "true"

    page = list_messages.sync(token, chat.number, client=client, limit=2)
    assert isinstance(page, models.MessageList), page
    assert [m.number for m in page.data] == [1, 2] and page.has_more and page.next_after == 2, page
    assert page.data[0].body == bodies[0]
    rest = list_messages.sync(token, chat.number, client=client, limit=2, after=page.next_after)
    assert [m.number for m in rest.data] == [3, 4] and not rest.has_more, rest

    said = create_message.sync(
        token, chat.number, client=client, body=models.MessageBody(body="Bob here", sender="bob")
    )
    assert said.number == 5 and said.sender == "bob", said
    by_bob = list_messages.sync(token, chat.number, client=client, sender="bob")
    assert [(m.number, m.sender) for m in by_bob.data] == [(5, "bob")], by_bob

    # Read positions and the inbox: bob joined by sending; carol joins and reads up to 2.
    joined = join_chat.sync_detailed(token, chat.number, "carol", client=client)
    assert joined.status_code == HTTPStatus.CREATED and joined.parsed.last_read == 0, joined
    marked = mark_read.sync(token, chat.number, "carol", client=client, body=models.ReadBody(last_read=2))
    assert marked.last_read == 2, marked
    seen = get_chat.sync(token, chat.number, client=client, reader="carol")
    assert (seen.last_read, seen.unread_count, seen.last_message.sender) == (2, 3, "bob"), seen
    inbox = list_chats.sync(token, client=client, reader="bob", order=models.ListChatsOrder.ACTIVITY)
    assert [c.number for c in inbox.data] == [chat.number] and inbox.data[0].unread_count == 4, inbox
    expect_problem(mark_read.sync_detailed(token, chat.number, "carol", client=client, body=models.ReadBody(last_read=99)), 422, "invalid_field")

    found = list_messages.sync(token, chat.number, client=client, query="cafe")
    assert [m.number for m in found.data] == [2], found
    assert "<mark>café</mark>" in found.data[0].snippet, found.data[0].snippet
    ranked = list_messages.sync(token, chat.number, client=client, query="six", order=models.SearchOrder.RELEVANCE)
    assert [m.number for m in ranked.data] == [3], ranked

    edited = update_message.sync(token, chat.number, 3, client=client, body=models.MessageBody(body="Yes, until seven"))
    assert isinstance(edited, models.Message) and edited.body == "Yes, until seven", edited
    assert get_message.sync(token, chat.number, 3, client=client).body == "Yes, until seven"
    assert delete_message.sync_detailed(token, chat.number, 4, client=client).status_code == HTTPStatus.NO_CONTENT
    expect_problem(get_message.sync_detailed(token, chat.number, 4, client=client), 404, "message_not_found")

    missing_chat = expect_problem(get_chat.sync_detailed(token, 99, client=client), 404, "chat_not_found")
    assert missing_chat.field is UNSET and missing_chat.error_id is UNSET
    expect_problem(get_application.sync_detailed(uuid.uuid4(), client=client), 404, "application_not_found")
    bad = expect_problem(
        create_message.sync_detailed(token, 99, client=client, body=models.MessageBody(body="lost")),
        404,
        "chat_not_found",
    )
    assert bad.status == 404

    if operator_key:
        operator = AuthenticatedClient(
            base_url=base_url, token=operator_key, prefix="", auth_header_name="X-Operator-Key"
        )
        listed = list_applications.sync(client=operator, limit=100)
        assert isinstance(listed, models.ApplicationList), listed
        assert isinstance(listed.data[0], models.Application)
        expect_problem(list_applications.sync_detailed(client=client), 401, "unauthorized")

    assert delete_application.sync_detailed(token, client=client).status_code == HTTPStatus.NO_CONTENT
    expect_problem(get_chat.sync_detailed(token, 1, client=client), 404, "application_not_found")
    print("python: scenario passed (application, chat, messages 1-3, pages, search, retry, edit, delete, 404s)")


check_generated_code()
scenario()
