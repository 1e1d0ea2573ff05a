"""The fake GitHub's branches, file writes, pull requests opened by the app, and people.

What a bot needs to keep files through a pull request from a branch of its own (the
all-contributors flow: read .all-contributorsrc and README.md, create or reset its branch,
write both files there, open a pull request or find the open one), driven through the bot's
own installation client, each answer checked against GitHub's description.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import aiohttp
import pytest
from gidgethub import BadRequest

from tests.fakes import FakeGitHub, rest_spec

INSTALLATION_ID = 7
OWNER, REPO = "octo", "hello"
BRANCH = "community-bot/all-contributors"
RC, README = ".all-contributorsrc", "README.md"
RC_TEXT = '{\n  "projectName": "hello",\n  "contributors": []\n}\n'
README_TEXT = "# hello\n\n<!-- ALL-CONTRIBUTORS-LIST:START -->\n<!-- ALL-CONTRIBUTORS-LIST:END -->\n"

REF = "/repos/{owner}/{repo}/git/ref/{ref}"
REFS = "/repos/{owner}/{repo}/git/refs"
UPDATE_REF = "/repos/{owner}/{repo}/git/refs/{ref}"
CONTENTS = "/repos/{owner}/{repo}/contents/{path}"
PULLS = "/repos/{owner}/{repo}/pulls"
USER = "/users/{username}"
WHERE = {"owner": OWNER, "repo": REPO}


def errors(method: str, template: str, status: int, body: Any) -> list[str]:
    return rest_spec().response_errors(method, template, status, body)


def blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_file(OWNER, REPO, RC, RC_TEXT)
    fake_github.add_file(OWNER, REPO, README, README_TEXT)
    return fake_github


@pytest.fixture
def gh(github_app: Any) -> Any:
    """The bot's own installation client."""
    return github_app.installation_client(INSTALLATION_ID)


@pytest.fixture
async def call(fake: FakeGitHub, github_app: Any) -> Any:
    """A request with the installation's token, answered with (status, headers, JSON): for
    answers the bot's client raises on, whose bodies are checked too."""
    async with aiohttp.ClientSession() as session:

        async def request(method: str, path: str, data: Any = None) -> tuple[int, Any, Any]:
            token = await github_app.installation_token(INSTALLATION_ID)
            headers = {"authorization": f"token {token}", "accept": "application/vnd.github+json"}
            async with session.request(method, fake.url + path, json=data, headers=headers) as answer:
                return answer.status, answer.headers, await answer.json(content_type=None)

        yield request


async def read(gh: Any, path: str, ref: str | None = None) -> dict:
    return await gh.getitem(CONTENTS + "{?ref}", {**WHERE, "path": path, "ref": ref})


def text_of(answer: dict) -> str:
    return base64.b64decode(answer["content"]).decode()


async def create_branch(gh: Any, sha: str) -> dict:
    return await gh.post(REFS, WHERE, data={"ref": f"refs/heads/{BRANCH}", "sha": sha})


async def write(gh: Any, path: str, text: str, sha: str | None = None, branch: str | None = BRANCH) -> dict:
    data = {"message": f"Update {path}", "content": encoded(text)}
    if branch is not None:
        data["branch"] = branch
    if sha is not None:
        data["sha"] = sha
    return await gh.put(CONTENTS, {**WHERE, "path": path}, data=data)


async def test_a_branch_is_made_from_the_default_head_with_its_files(fake, gh, call):
    main = await gh.getitem(REF, {**WHERE, "ref": "heads/main"})
    assert errors("GET", REF, 200, main) == []
    head = fake.branch_head(OWNER, REPO, "main")
    assert main["ref"] == "refs/heads/main" and main["object"] == {
        "sha": head,
        "type": "commit",
        "url": f"{fake.url}/repos/octo/hello/git/commits/{head}",
    }
    with pytest.raises(BadRequest) as missing:
        await gh.getitem(REF, {**WHERE, "ref": f"heads/{BRANCH}"})
    assert missing.value.status_code == 404 and fake.branch_head(OWNER, REPO, BRANCH) is None

    status, headers, created = await call(
        "POST", "/repos/octo/hello/git/refs", {"ref": f"refs/heads/{BRANCH}", "sha": head}
    )
    assert status == 201 and errors("POST", REFS, 201, created) == []
    assert created["ref"] == f"refs/heads/{BRANCH}" and created["object"]["sha"] == head
    assert headers["Location"] == f"{fake.url}/repos/octo/hello/git/refs/heads/{BRANCH}"
    assert (await gh.getitem(REF, {**WHERE, "ref": f"heads/{BRANCH}"}))["object"]["sha"] == head
    assert fake.branch_head(OWNER, REPO, BRANCH) == head

    # Until it has versions of its own, the branch has the default branch's files.
    on_branch = await read(gh, README, BRANCH)
    assert text_of(on_branch) == README_TEXT and on_branch["sha"] == blob_sha(README_TEXT)
    assert on_branch["url"].endswith(f"/contents/{README}?ref={BRANCH}")
    assert fake.file_text(OWNER, REPO, RC, ref=BRANCH) == RC_TEXT
    assert [c.path for c in fake.calls_to("GET", REF)] == [
        "/repos/octo/hello/git/ref/heads/main",
        f"/repos/octo/hello/git/ref/heads/{BRANCH}",
        f"/repos/octo/hello/git/ref/heads/{BRANCH}",
    ]
    assert len(fake.calls_to("POST", REFS)) == 1


async def test_making_a_branch_that_exists_or_from_no_commit_is_refused(fake, gh, call):
    head = fake.branch_head(OWNER, REPO, "main")
    await create_branch(gh, head)
    for data, message in [
        ({"ref": f"refs/heads/{BRANCH}", "sha": head}, "Reference already exists"),
        ({"ref": "refs/heads/main", "sha": head}, "Reference already exists"),
        ({"ref": "refs/heads/community-bot", "sha": head}, "Reference update failed"),
        ({"ref": "refs/heads/other", "sha": "f" * 40}, "Object does not exist"),
    ]:
        status, _, body = await call("POST", "/repos/octo/hello/git/refs", data)
        assert (status, body["message"]) == (422, message)
        assert errors("POST", REFS, 422, body) == []
    assert fake.violations == [], "GitHub refuses these, as the bot must expect"

    status, _, body = await call("POST", "/repos/octo/hello/git/refs", {"ref": "heads/other", "sha": head})
    assert status == 422 and fake.branch_head(OWNER, REPO, "other") is None
    status, _, _ = await call("GET", f"/repos/octo/hello/git/ref/refs/heads/{BRANCH}")
    assert status == 404, "GitHub wants heads/BRANCH in this path"
    assert len(fake.violations) == 2, "a name GitHub would never take is the bot's mistake"
    fake.violations.clear()


async def test_writing_a_file_wants_the_blob_sha_of_the_version_it_replaces(fake, gh, call):
    main = fake.branch_head(OWNER, REPO, "main")
    await create_branch(gh, main)

    created = await write(gh, "CONTRIBUTORS.md", "Mona\n")
    assert errors("PUT", CONTENTS, 201, created) == []
    assert created["content"]["sha"] == blob_sha("Mona\n") and created["content"]["path"] == "CONTRIBUTORS.md"
    assert created["commit"]["parents"][0]["sha"] == main and created["commit"]["message"] == "Update CONTRIBUTORS.md"
    assert created["commit"]["author"]["name"] == "community-bot[bot]" and created["commit"]["verification"]["verified"]
    assert fake.branch_head(OWNER, REPO, BRANCH) == created["commit"]["sha"], "the branch moved on"
    assert fake.branch_head(OWNER, REPO, "main") == main

    path = f"/repos/octo/hello/contents/{README}"
    data = {"message": "Add Mona", "content": encoded(README_TEXT + "Mona\n"), "branch": BRANCH}
    status, _, body = await call("PUT", path, data)
    assert (status, body["message"]) == (422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
    assert errors("PUT", CONTENTS, 422, body) == []
    status, _, body = await call("PUT", path, {**data, "sha": blob_sha("something else")})
    assert (status, body["message"]) == (409, f"{README} does not match {blob_sha('something else')}")
    # The description answers 409 with oneOf two schemas every error body fits both of.
    assert rest_spec().schema_errors("/components/schemas/basic-error", body) == []

    current = await read(gh, README, BRANCH)
    updated = await write(gh, README, README_TEXT + "Mona\n", sha=current["sha"])
    assert errors("PUT", CONTENTS, 200, updated) == []
    assert updated["commit"]["parents"][0]["sha"] == created["commit"]["sha"]
    assert fake.calls_to("PUT", CONTENTS)[-1].json["sha"] == blob_sha(README_TEXT)
    assert text_of(await read(gh, README, BRANCH)) == README_TEXT + "Mona\n"
    assert text_of(await read(gh, README)) == README_TEXT, "the default branch is as it was"
    assert fake.file_text(OWNER, REPO, README) == README_TEXT
    assert fake.file_text(OWNER, REPO, "CONTRIBUTORS.md") is None
    assert fake.file_text(OWNER, REPO, "CONTRIBUTORS.md", ref=BRANCH) == "Mona\n"

    # A sha for a file the branch does not have is not looked at: it is created.
    status, _, body = await call(
        "PUT",
        "/repos/octo/hello/contents/NEW.md",
        {"message": "New", "content": encoded("x"), "branch": BRANCH, "sha": "0" * 40},
    )
    assert status == 201
    status, _, body = await call("PUT", path, {**data, "branch": "nowhere"})
    assert (status, body["message"]) == (404, "Branch nowhere not found")
    status, _, body = await call("PUT", path, {"message": "Bad", "content": "not base64!", "branch": BRANCH})
    assert status == 422 and len(fake.violations) == 1
    fake.violations.clear()


async def test_a_forced_reset_brings_the_default_branchs_files_back(fake, gh, call):
    main = fake.branch_head(OWNER, REPO, "main")
    await create_branch(gh, main)
    written = await write(gh, README, "replaced\n", sha=blob_sha(README_TEXT))
    ahead = written["commit"]["sha"]

    status, _, body = await call("PATCH", f"/repos/octo/hello/git/refs/heads/{BRANCH}", {"sha": main})
    assert (status, body["message"]) == (422, "Update is not a fast forward")
    assert errors("PATCH", UPDATE_REF, 422, body) == []
    assert fake.branch_head(OWNER, REPO, BRANCH) == ahead

    reset = await gh.patch(UPDATE_REF, {**WHERE, "ref": f"heads/{BRANCH}"}, data={"sha": main, "force": True})
    assert errors("PATCH", UPDATE_REF, 200, reset) == []
    assert reset["object"]["sha"] == main == fake.branch_head(OWNER, REPO, BRANCH)
    assert text_of(await read(gh, README, BRANCH)) == README_TEXT

    # Forward again, without force: the commit's files come back with it.
    await gh.patch(UPDATE_REF, {**WHERE, "ref": f"heads/{BRANCH}"}, data={"sha": ahead})
    assert fake.file_text(OWNER, REPO, README, ref=BRANCH) == "replaced\n"

    status, _, body = await call("PATCH", "/repos/octo/hello/git/refs/heads/nowhere", {"sha": main, "force": True})
    assert (status, body["message"]) == (422, "Reference does not exist")
    status, _, body = await call(
        "PATCH", f"/repos/octo/hello/git/refs/heads/{BRANCH}", {"sha": "e" * 40, "force": True}
    )
    assert (status, body["message"]) == (422, "Object does not exist")
    assert fake.violations == []
    status, _, body = await call(
        "PATCH", f"/repos/octo/hello/git/refs/refs/heads/{BRANCH}", {"sha": main, "force": True}
    )
    assert (status, body["message"]) == (422, "Reference does not exist") and len(fake.violations) == 1
    fake.violations.clear()


async def test_a_pull_request_is_opened_once_and_found_by_its_head(fake, gh, call):
    fake.add_issue(OWNER, REPO, title="Someone's change", author="mona", pull_request=True)
    await create_branch(gh, fake.branch_head(OWNER, REPO, "main"))
    status, _, body = await call(
        "POST", "/repos/octo/hello/pulls", {"title": "Add Mona", "head": BRANCH, "base": "main"}
    )
    assert status == 422 and body["errors"][0]["message"] == f"No commits between main and {BRANCH}"
    assert errors("POST", PULLS, 422, body) == []
    await write(gh, RC, RC_TEXT.replace("[]", '["mona"]'), sha=blob_sha(RC_TEXT))

    data = {"title": "Add @mona as a contributor", "head": BRANCH, "base": "main", "body": "Adds @mona for code."}
    opened = await gh.post(PULLS, WHERE, data=data)
    assert errors("POST", PULLS, 201, opened) == []
    assert opened["number"] == 2 and opened["state"] == "open" and opened["user"]["login"] == "community-bot[bot]"
    assert (opened["head"]["label"], opened["head"]["ref"], opened["base"]["ref"]) == (f"octo:{BRANCH}", BRANCH, "main")
    assert opened["head"]["sha"] == fake.branch_head(OWNER, REPO, BRANCH) and opened["commits"] == 1
    [kept] = fake.pulls(OWNER, REPO)
    assert (kept["title"], kept["body"], kept["head"]["ref"], kept["base"]["ref"]) == (
        data["title"],
        data["body"],
        BRANCH,
        "main",
    )

    status, _, body = await call("POST", "/repos/octo/hello/pulls", {**data, "head": f"octo:{BRANCH}"})
    assert status == 422 and body["errors"] == [
        {"resource": "PullRequest", "code": "custom", "message": f"A pull request already exists for octo:{BRANCH}."}
    ]
    assert errors("POST", PULLS, 422, body) == []
    status, _, body = await call("POST", "/repos/octo/hello/pulls", {**data, "base": "nowhere"})
    assert status == 422 and body["errors"][0]["field"] == "base"
    assert len(fake.pulls(OWNER, REPO)) == 1 and fake.violations == []

    listed = await gh.getitem(PULLS + "{?head,state}", {**WHERE, "head": f"octo:{BRANCH}", "state": "open"})
    assert errors("GET", PULLS, 200, listed) == []
    assert [pull["number"] for pull in listed] == [2] and "mergeable" not in listed[0]
    assert await gh.getitem(PULLS + "{?head}", {**WHERE, "head": "octo:elsewhere"}) == []
    assert await gh.getitem(PULLS + "{?head,state}", {**WHERE, "head": f"octo:{BRANCH}", "state": "closed"}) == []
    unfiltered = await gh.getitem(PULLS + "{?head}", {**WHERE, "head": BRANCH})
    assert [pull["number"] for pull in unfiltered] == [2, 1], "like GitHub, a head without its owner filters nothing"


async def test_resetting_the_branch_of_an_open_pull_request_closes_it(fake, gh):
    main = fake.branch_head(OWNER, REPO, "main")
    await create_branch(gh, main)
    await write(gh, README, README_TEXT + "Mona\n", sha=blob_sha(README_TEXT))
    opened = await gh.post(PULLS, WHERE, data={"title": "Add Mona", "head": BRANCH, "base": "main"})
    second = await write(gh, RC, RC_TEXT + "\n", sha=blob_sha(RC_TEXT))
    assert fake.pull_request(OWNER, REPO, opened["number"])["head"]["sha"] == second["commit"]["sha"]
    assert fake.pull_request(OWNER, REPO, opened["number"])["commits"] == 2, "a push adds to the pull request"

    # GitHub closes a pull request whose head is forced back to have nothing for its base.
    await gh.patch(UPDATE_REF, {**WHERE, "ref": f"heads/{BRANCH}"}, data={"sha": main, "force": True})
    assert fake.pull_request(OWNER, REPO, opened["number"])["state"] == "closed"
    assert await gh.getitem(PULLS + "{?head}", {**WHERE, "head": f"octo:{BRANCH}"}) == []
    await write(gh, README, README_TEXT + "Hubot\n", sha=blob_sha(README_TEXT))
    again = await gh.post(PULLS, WHERE, data={"title": "Add Hubot", "head": BRANCH, "base": "main"})
    assert again["number"] == opened["number"] + 1 and again["state"] == "open"


async def test_the_all_contributors_flow_keeps_one_pull_request(fake, gh):
    """What the bot does, twice: the second time onto its open pull request's branch."""

    async def add(login: str) -> dict:
        open_pulls = await gh.getitem(PULLS + "{?head,state}", {**WHERE, "head": f"{OWNER}:{BRANCH}", "state": "open"})
        if not open_pulls:
            main = (await gh.getitem(REF, {**WHERE, "ref": "heads/main"}))["object"]["sha"]
            try:
                await create_branch(gh, main)
            except BadRequest as exc:  # left from a pull request closed since
                assert exc.status_code == 422
                await gh.patch(UPDATE_REF, {**WHERE, "ref": f"heads/{BRANCH}"}, data={"sha": main, "force": True})
        for path in (RC, README):
            current = await read(gh, path, BRANCH)
            await write(gh, path, text_of(current) + f"{login}\n", sha=current["sha"])
        if open_pulls:
            return open_pulls[0]
        return await gh.post(PULLS, WHERE, data={"title": "Add contributors", "head": BRANCH, "base": "main"})

    first, second = await add("mona"), await add("hubot")
    assert first["number"] == second["number"] and len(fake.pulls(OWNER, REPO)) == 1
    assert fake.file_text(OWNER, REPO, README, ref=BRANCH) == README_TEXT + "mona\nhubot\n"
    assert fake.file_text(OWNER, REPO, README) == README_TEXT
    assert fake.pull_request(OWNER, REPO, first["number"])["commits"] == 4

    # Someone closes it unmerged: the next time, the branch is reset and a new one opened.
    await gh.patch("/repos/octo/hello/issues/{n}", {"n": first["number"]}, data={"state": "closed"})
    third = await add("octocat")
    assert third["number"] == first["number"] + 1
    assert fake.file_text(OWNER, REPO, README, ref=BRANCH) == README_TEXT + "octocat\n", "reset to the default branch"


async def test_writing_the_default_branch_leaves_other_branches_as_they_were(fake, gh):
    old = fake.branch_head(OWNER, REPO, "main")
    await create_branch(gh, old)
    written = await write(gh, README, "# hello, again\n", sha=blob_sha(README_TEXT), branch=None)
    assert written["commit"]["parents"][0]["sha"] == old
    assert fake.branch_head(OWNER, REPO, "main") == written["commit"]["sha"]
    assert fake.file_text(OWNER, REPO, README) == "# hello, again\n"
    assert fake.file_text(OWNER, REPO, README, ref=BRANCH) == README_TEXT, "made before the change"
    await gh.patch(UPDATE_REF, {**WHERE, "ref": f"heads/{BRANCH}"}, data={"sha": written["commit"]["sha"]})
    assert fake.file_text(OWNER, REPO, README, ref=BRANCH) == "# hello, again\n", "fast-forwarded past it"


async def test_people_and_the_repository(fake, gh, call):
    anyone = await gh.getitem(USER, {"username": "someone"})
    assert errors("GET", USER, 200, anyone) == []
    assert (anyone["login"], anyone["name"], anyone["blog"], anyone["type"]) == ("someone", None, "", "User")
    fake.add_user("Mona", name="Mona Lisa", blog="https://mona.example")
    mona = await gh.getitem(USER, {"username": "mona"})
    assert errors("GET", USER, 200, mona) == []
    assert (mona["login"], mona["name"], mona["blog"]) == ("Mona", "Mona Lisa", "https://mona.example")
    assert mona["html_url"] == "https://github.com/Mona" and mona["avatar_url"].startswith("https://avatars.")
    assert (await gh.getitem(USER, {"username": "community-bot[bot]"}))["type"] == "Bot"
    assert len(fake.calls_to("GET", USER)) == 3

    repository = await gh.getitem("/repos/{owner}/{repo}", WHERE)
    assert errors("GET", "/repos/{owner}/{repo}", 200, repository) == []
    assert repository["default_branch"] == "main" and repository["full_name"] == "octo/hello"
    status, _, _ = await call("GET", "/repos/octo/nothing-here")
    assert status == 404


async def test_a_default_branch_of_another_name(fake, gh, call):
    fake.set_default_branch(OWNER, REPO, "trunk")
    assert (await gh.getitem("/repos/{owner}/{repo}", WHERE))["default_branch"] == "trunk"
    trunk = await gh.getitem(REF, {**WHERE, "ref": "heads/trunk"})
    status, _, _ = await call("GET", "/repos/octo/hello/git/ref/heads/main")
    assert status == 404
    await create_branch(gh, trunk["object"]["sha"])
    await write(gh, README, "changed\n", sha=blob_sha(README_TEXT))
    opened = await gh.post(PULLS, WHERE, data={"title": "Change", "head": BRANCH, "base": "trunk"})
    assert opened["base"]["ref"] == "trunk" and opened["base"]["label"] == "octo:trunk"
    assert (await read(gh, README, "trunk"))["url"].endswith("?ref=trunk")
    assert (await read(gh, README))["url"].endswith("?ref=trunk")


async def test_a_seeded_branch_and_its_own_files(fake, gh):
    """add_branch() and add_file(ref=...) set a scene, such as the bot's branch left from before."""
    head = fake.add_branch(OWNER, REPO, BRANCH)
    assert head == fake.branch_head(OWNER, REPO, "main")
    fake.add_file(OWNER, REPO, README, "the branch's own\n", ref=BRANCH)
    assert text_of(await read(gh, README, BRANCH)) == "the branch's own\n"
    assert text_of(await read(gh, RC, BRANCH)) == RC_TEXT
    fake.remove_file(OWNER, REPO, README, ref=BRANCH)
    assert text_of(await read(gh, README, BRANCH)) == README_TEXT
    with pytest.raises(ValueError, match="already"):
        fake.add_branch(OWNER, REPO, BRANCH)
    with pytest.raises(BadRequest) as unknown:
        await read(gh, README, "no-such-branch")
    assert unknown.value.status_code == 404
    assert fake.file_text(OWNER, REPO, README, ref="no-such-branch") is None
