"""Property: random sequences of grants, accesses, resets and time never let an app use a
permission it does not hold at that moment, and every access let through is recorded once."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from charter.device.permissions import PERMISSIONS, Grant, Manifest, may_access
from charter.device.space import Space
from charter.errors import InputError, RefusedError
from charter.testing import FakeClock

APPS = ("com.a.one", "com.b.two")
PERMS = ("location", "camera", "clipboard")
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("grant"),
            st.sampled_from(APPS),
            st.sampled_from(PERMS),
            st.sampled_from(list(Grant)),
        ),
        st.tuples(st.just("use"), st.sampled_from(APPS), st.sampled_from(PERMS), st.booleans()),
        st.tuples(st.just("wait"), st.integers(0, 40)),
        st.tuples(
            st.just("reset"),
        ),
        st.tuples(st.just("touch"), st.sampled_from(APPS)),
    ),
    max_size=40,
)


@settings(max_examples=40)
@given(steps)
def test_no_access_without_a_grant_that_allows_it(tmp_path_factory: object, plan: list) -> None:  # type: ignore[type-arg]
    folder = Path(tmp_path_factory.mktemp("grants"))  # type: ignore[attr-defined]
    clock = FakeClock()
    space = Space("owner", folder / "s.db", b"k" * 32, clock)
    try:
        for app in APPS:
            space.apps.install(Manifest(app, app, dict.fromkeys(PERMS, "app_functionality")))
        space.apps.reset_days = 30
        held: dict[tuple[str, str], Grant] = {}
        last_used = dict.fromkeys(APPS, clock())
        allowed = 0
        for step in plan:
            if step[0] == "grant":
                _, app, perm, grant = step
                try:
                    space.apps.grant(app, perm, grant)
                    held[(app, perm)] = grant
                except InputError:
                    assert grant is Grant.ALWAYS and not PERMISSIONS[perm].always_allowed
            elif step[0] == "use":
                _, app, perm, fg = step
                expected = may_access(held.get((app, perm)), foreground=fg)
                try:
                    space.apps.use_permission(app, perm, foreground=fg)
                    assert expected
                    allowed += 1
                    last_used[app] = clock()
                    if held[(app, perm)] is Grant.ALLOW_ONCE:
                        del held[(app, perm)]
                except RefusedError:
                    assert not expected
            elif step[0] == "wait":
                clock.advance(days=step[1])
            elif step[0] == "touch":
                space.apps.touch(step[1])
                last_used[step[1]] = clock()
            else:
                cut = clock() - 30 * 86_400_000_000
                for app in space.apps.reset_unused():
                    assert last_used[app] < cut
                    held = {k: v for k, v in held.items() if k[0] != app}
            for app in APPS:
                assert space.apps.grants(app) == {p: g for (a, p), g in held.items() if a == app}
        assert len(space.log.records(since=0)) <= allowed
    finally:
        space.close()
