"""Presence in the shared cache: sockets of one user coming and going at the same time,
on many threads, as a server's sockets are handled."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chat import presence


@pytest.fixture(autouse=True)
def _isolated(settings) -> None:
    # Ids far from any other test's users; the keys live in the real cache.
    settings.PRESENCE_TTL_SECONDS = 60


def test_a_user_is_online_while_any_socket_is_and_offline_after_the_last():
    user = 9_000_001
    assert presence.touch(user, "a") is True  # was offline
    assert presence.touch(user, "b") is False
    assert presence.online([user, 9_000_002]) == {user}
    assert presence.drop(user, "a") is False  # "b" is still open
    assert presence.online([user]) == {user}
    assert presence.drop(user, "b") is True
    assert presence.online([user]) == set()


def test_sockets_opening_and_closing_together_leave_nothing_behind():
    user = 9_000_003
    sockets = [f"s{i}" for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda s: presence.touch(user, s), sockets))
        assert presence.online([user]) == {user}
        # Every close at once; a read-modify-write of the whole entry lost some of these.
        list(pool.map(lambda s: presence.drop(user, s), sockets))
    assert presence.online([user]) == set()


def test_a_stamp_older_than_the_ttl_does_not_count(settings):
    user = 9_000_004
    presence.touch(user, "crashed")
    settings.PRESENCE_TTL_SECONDS = 0  # every stamp is now too old
    assert presence.online([user]) == set()
    assert presence.touch(user, "new") is True  # the crashed socket did not count
    settings.PRESENCE_TTL_SECONDS = 60
    assert presence.drop(user, "new") is True  # and it is gone, not "online" for a TTL
