"""CLA signatures: the record on SQLite and PostgreSQL, its export format, and the ``cla`` commands."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from bot import __main__ as cli
from bot.inbox import Inbox, metadata
from bot.signatures import Signature, SignatureBook, parse_export, to_csv, to_json
from tests.test_inbox import POSTGRES

SIGNED_AT = 1714564800.0  # 2024-05-01T12:00:00Z
HEADER = "user_id,login,version,scope,signed_at,repository,comment_url\n"


def signature(user_id: int = 583231, *, login: str = "mona", version: str = "v1", scope: str = "org:acme", **fields) -> Signature:
    values = {
        "signed_at": SIGNED_AT,
        "repository": "acme/widgets",
        "comment_url": f"https://github.com/acme/widgets/pull/1#issuecomment-{user_id}",
    }
    values.update(fields)
    return Signature(user_id=user_id, login=login, version=version, scope=scope, **values)


@pytest.fixture(params=["sqlite", POSTGRES])
async def open_book(request, tmp_path):
    """Open signature books on one database (each its own inbox, as separate processes have);
    the tables are dropped afterwards, so the shared PostgreSQL database keeps nothing."""
    url = f"sqlite:///{tmp_path / 'bot.db'}" if request.param == "sqlite" else request.param
    inboxes = []

    async def open_one() -> SignatureBook:
        inbox = Inbox(url)
        await inbox.open()
        if not inboxes:
            # A clean slate, whatever an interrupted run left behind.
            await inbox.transaction(metadata.drop_all)
            await inbox.transaction(metadata.create_all)
        inboxes.append(inbox)
        return SignatureBook(inbox)

    yield open_one
    if inboxes:
        await inboxes[0].transaction(metadata.drop_all)
    for inbox in inboxes:
        await inbox.close()


@contextlib.contextmanager
def statements_run(book: SignatureBook) -> Iterator[list[str]]:
    inbox = book._inbox
    engine = inbox._sqlite_engine if inbox.is_sqlite else inbox._async_engine.sync_engine
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


# The record ----------------------------------------------------------------------------------


async def test_a_signature_is_recorded_once_and_the_first_stays(open_book):
    book = await open_book()
    first = signature()
    assert await book.sign(first) is True
    assert await book.sign(first) is False
    again = signature(signed_at=SIGNED_AT + 60, comment_url="https://github.com/acme/other/pull/2#issuecomment-9")
    assert await book.sign(again) is False
    assert await book.all() == [first]


async def test_concurrent_signings_by_one_person_make_one_record(open_book):
    books = [await open_book(), await open_book()]
    attempts = [book.sign(signature(signed_at=SIGNED_AT + n)) for n in range(10) for book in books]
    outcomes = await asyncio.gather(*attempts)
    assert outcomes.count(True) == 1
    assert len(await books[0].all()) == 1


async def test_signed_answers_for_one_version_in_one_scope(open_book):
    book = await open_book()
    await book.sign(signature(1))
    await book.sign(signature(2))
    await book.sign(signature(3, version="v2"))
    await book.sign(signature(4, scope="repo:acme/widgets"))
    await book.sign(signature(5, scope="org:other"))
    everyone = range(1, 7)
    assert await book.signed(everyone, version="v1", scope="org:acme") == {1, 2}
    assert await book.signed(everyone, version="v2", scope="org:acme") == {3}
    assert await book.signed(everyone, version="v1", scope="repo:acme/widgets") == {4}
    assert await book.signed(everyone, version="v1", scope="org:other") == {5}
    assert await book.signed([2, 2, 6], version="v1", scope="org:acme") == {2}
    assert await book.signed([], version="v1", scope="org:acme") == set()


async def test_signed_asks_one_query_however_many_ids(open_book):
    book = await open_book()
    await book.sign(signature(1500))
    with statements_run(book) as statements:
        assert await book.signed(range(1, 3001), version="v1", scope="org:acme") == {1500}
    assert len(statements) == 1, statements


async def test_a_renamed_login_stays_signed(open_book):
    book = await open_book()
    await book.sign(signature(583231, login="mona"))
    # Same account, renamed: signing again changes nothing, and the record keeps the old login.
    assert await book.sign(signature(583231, login="mona-renamed")) is False
    assert await book.signed([583231], version="v1", scope="org:acme") == {583231}
    assert [s.login for s in await book.all()] == ["mona"]


async def test_all_lists_the_oldest_first(open_book):
    book = await open_book()
    for user_id, offset in [(1, 300), (2, 0), (3, 600), (4, 100)]:
        await book.sign(signature(user_id, signed_at=SIGNED_AT + offset))
    assert [s.user_id for s in await book.all()] == [2, 4, 1, 3]


async def test_load_adds_only_what_is_new(open_book):
    book = await open_book()
    await book.sign(signature(1))
    loaded = [signature(1, login="someone-else"), signature(2), signature(2, login="later-duplicate"), signature(3, version="v2")]
    assert await book.load(loaded) == 2
    assert await book.load(loaded) == 0
    assert await book.load([]) == 0
    kept = [(s.user_id, s.login, s.version) for s in await book.all()]
    assert kept == [(1, "mona", "v1"), (2, "mona", "v1"), (3, "mona", "v2")]


@pytest.mark.parametrize("format", ["json", "csv"])
async def test_an_export_loads_back_exactly(open_book, format):
    book = await open_book()
    signed = [
        signature(1, signed_at=SIGNED_AT),
        signature(2, login="hubot", signed_at=SIGNED_AT + 0.25, comment_url=None),
        signature(3, version='v2, "final"', scope="repo:acme/widgets", signed_at=SIGNED_AT + 7),
    ]
    for one in signed:
        await book.sign(one)
    exported = (to_json if format == "json" else to_csv)(await book.all())
    await book._inbox.transaction(metadata.drop_all)
    await book._inbox.transaction(metadata.create_all)
    assert await book.load(parse_export(exported, format)) == 3
    assert await book.all() == signed


# The export format ---------------------------------------------------------------------------


def test_export_shapes():
    signed = [signature(1, comment_url=None), signature(2, signed_at=SIGNED_AT + 0.5)]
    entries = json.loads(to_json(signed))
    assert list(entries[0]) == ["user_id", "login", "version", "scope", "signed_at", "repository", "comment_url"]
    assert [e["signed_at"] for e in entries] == ["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.500000Z"]
    assert entries[0]["comment_url"] is None
    lines = to_csv(signed).splitlines()
    assert lines[0] + "\n" == HEADER
    assert lines[1] == "1,mona,v1,org:acme,2024-05-01T12:00:00Z,acme/widgets,"


GOOD = {
    "user_id": 1,
    "login": "mona",
    "version": "v1",
    "scope": "org:acme",
    "signed_at": "2024-05-01T12:00:00Z",
    "repository": "acme/widgets",
    "comment_url": None,
}


def test_parse_export_accepts_epoch_seconds_and_other_time_zones():
    rows = [
        "1,mona,v1,org:acme,1714564800,acme/widgets,\n",
        "2,hubot,v1,ORG:Acme,2024-05-01T14:00:00+02:00,acme/widgets,https://github.com/acme/widgets/pull/1#issuecomment-2\n",
        "3,octo,v1,repo:Acme/Widgets,1714564800.5,Acme/Widgets,\n",
    ]
    parsed = parse_export(HEADER + "".join(rows), "csv")
    assert [(s.user_id, s.scope, s.signed_at, s.comment_url) for s in parsed] == [
        (1, "org:acme", SIGNED_AT, None),
        (2, "org:acme", SIGNED_AT, "https://github.com/acme/widgets/pull/1#issuecomment-2"),
        (3, "repo:acme/widgets", SIGNED_AT + 0.5, None),
    ]
    assert parsed[2].repository == "Acme/Widgets"
    # No comment_url at all is no comment link.
    entry = {**GOOD, "signed_at": 1714564800}
    del entry["comment_url"]
    assert parse_export(json.dumps([entry]), "json") == [signature(1, comment_url=None)]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"user_id": None}, "entry 2: user_id is missing"),
        ({"user_id": 0}, "entry 2: user_id must be a GitHub user id"),
        ({"user_id": "abc"}, "entry 2: user_id must be a GitHub user id"),
        ({"user_id": True}, "entry 2: user_id must be a GitHub user id"),
        ({"user_id": 1.5}, "entry 2: user_id must be a GitHub user id"),
        ({"login": ""}, "entry 2: login is missing"),
        ({"login": 7}, "entry 2: login must be text"),
        ({"login": "x" * 101}, "entry 2: login is longer than 100 characters"),
        ({"version": None}, "entry 2: version is missing"),
        ({"scope": "acme"}, "entry 2: scope must be org:<owner> or repo:<owner>/<name>"),
        ({"scope": "repo:acme"}, "entry 2: scope must be org:<owner> or repo:<owner>/<name>"),
        ({"signed_at": "yesterday"}, "entry 2: signed_at must be an ISO 8601 time with a time zone"),
        ({"signed_at": "2024-05-01T12:00:00"}, "entry 2: signed_at must be an ISO 8601 time with a time zone"),
        ({"signed_at": float("nan")}, "entry 2: signed_at must be"),
        ({"signed_at": 1e300}, "entry 2: signed_at must be"),
        ({"signed_at": None}, "entry 2: signed_at is missing"),
        ({"repository": "widgets"}, "entry 2: repository must be owner/name"),
        ({"comment_url": "javascript:alert(1)"}, "entry 2: comment_url must be an http(s) link"),
        ({"signer": "mona"}, "entry 2: unknown field 'signer'"),
    ],
)
def test_parse_export_names_the_entry_and_field_of_a_bad_value(change, message):
    bad = {**GOOD, **change}
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_export(json.dumps([GOOD, bad]), "json")


@pytest.mark.parametrize(
    "text, format, message",
    [
        ("{not json", "json", "not JSON"),
        ('{"user_id": 1}', "json", "not a JSON list of signatures"),
        ("[1]", "json", "entry 1: not an object"),
        ("", "csv", "no header row"),
        (HEADER + "1,mona,v1,org:acme,1714564800,acme/w,,extra\n", "csv", "line 2: more cells than the header names"),
        (HEADER + "1,mona,v1,org:acme,1714564800,acme/w,\n2,octo,v1,org:acme,soon,acme/w,\n", "csv", "line 3: signed_at must be"),
        ("user_id,login\n1,mona\n", "csv", "line 2: version is missing"),
        ("[]", "xml", "unknown format 'xml'"),
    ],
)
def test_parse_export_rejects_malformed_files(text, format, message):
    with pytest.raises(ValueError, match=message):
        parse_export(text, format)


# The cla commands ----------------------------------------------------------------------------


@pytest.fixture
def database(tmp_path, monkeypatch):
    """DATABASE_URL only, as the ``cla`` commands need: no GitHub settings, no .env around."""
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)

    def use(name: str) -> None:
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / name}")

    use("bot.db")
    return use


SIGNED = [
    signature(1, signed_at=SIGNED_AT),
    signature(2, login="hubot", signed_at=SIGNED_AT + 0.25, comment_url=None),
    signature(3, version="v2", scope="repo:acme/widgets", signed_at=SIGNED_AT + 7),
]


def test_cla_import_then_export_round_trips(database, tmp_path, capsys):
    (tmp_path / "signatures.json").write_text(to_json(SIGNED))
    assert cli.main(["cla", "import", "signatures.json"]) == 0
    assert capsys.readouterr().out == "community-bot: imported signatures.json: 3 signatures new, 0 already there\n"
    assert cli.main(["cla", "import", "signatures.json"]) == 0
    assert capsys.readouterr().out == "community-bot: imported signatures.json: 0 signatures new, 3 already there\n"

    assert cli.main(["cla", "export"]) == 0
    assert parse_export(capsys.readouterr().out, "json") == SIGNED
    assert cli.main(["cla", "export", "--format", "csv", "--output", "out.csv"]) == 0
    assert capsys.readouterr().out == "community-bot: exported 3 signatures to out.csv\n"
    assert parse_export((tmp_path / "out.csv").read_text(), "csv") == SIGNED

    # Into another database, the format named rather than guessed.
    database("other.db")
    (tmp_path / "out.csv").rename(tmp_path / "signatures.txt")
    assert cli.main(["cla", "import", "signatures.txt", "--format", "csv"]) == 0
    assert capsys.readouterr().out == "community-bot: imported signatures.txt: 3 signatures new, 0 already there\n"
    assert cli.main(["cla", "export", "--format", "json"]) == 0
    assert capsys.readouterr().out == to_json(SIGNED)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("signatures.json", "{not json", "cannot import signatures.json: not JSON"),
        ("signatures.csv", "user_id,login\n1,mona\n", "cannot import signatures.csv: line 2: version is missing"),
        ("signatures.txt", to_json(SIGNED), "cannot tell the format of signatures.txt from its name"),
        ("absent.json", None, "cannot read absent.json: No such file or directory"),
    ],
)
def test_cla_import_rejects_a_bad_file_with_one_line(database, tmp_path, capsys, name, content, message):
    if content is not None:
        (tmp_path / name).write_text(content)
    assert cli.main(["cla", "import", name]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"community-bot: {message}") and captured.err.count("\n") == 1
    assert not (tmp_path / "bot.db").exists()  # nothing was opened, let alone imported


def test_cla_commands_stop_with_one_line_when_the_database_does_not_answer(database, monkeypatch, tmp_path, capsys):
    (tmp_path / "signatures.json").write_text(to_json(SIGNED))
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert cli.main(["cla", "import", "signatures.json"]) == 2
    assert cli.main(["cla", "export"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(": the database does not answer:")[0] for line in lines] == [
        "community-bot: cannot import",
        "community-bot: cannot export",
    ]


def test_cla_export_refuses_a_sqlite_database_that_is_not_there(database, tmp_path, capsys):
    assert cli.main(["cla", "export"]) == 2
    expected = f"community-bot: cannot export: DATABASE_URL names {tmp_path / 'bot.db'}, which does not exist\n"
    assert capsys.readouterr().err == expected
    assert not (tmp_path / "bot.db").exists()
