"""
The ecosystem's services on the gate: one package each, owning its tables (registered with
:mod:`charter.store.registry`) and built by the composition root with what it needs handed in.

- :mod:`charter.services.account`: accounts, sign-in, sessions, 2-step verification;
- :mod:`charter.services.oauth`: the OAuth 2.0 / OpenID Connect provider;
- :mod:`charter.services.credentials`: service API keys and interim user tokens;
- :mod:`charter.services.staff`: staff roles of the Privacy Center;
- :mod:`charter.services.cloud`: sync between a person's devices, trash, shared links;
- :mod:`charter.services.browser`, :mod:`charter.services.video`, :mod:`charter.services.pay`:
  Mi Browser, Mi Video and Mi Pay (:mod:`charter.services.aggregates`: their analytics counters).
- :mod:`charter.services.find_device`: locate, lost mode, ring, lock, erase, sealed positions.
"""

from collections.abc import Mapping

from charter.services.account.promises import ENFORCERS as ACCOUNT_ENFORCERS
from charter.services.browser.promises import ENFORCERS as BROWSER_ENFORCERS
from charter.services.cloud.promises import ENFORCERS as CLOUD_ENFORCERS
from charter.services.find_device.promises import ENFORCERS as FIND_DEVICE_ENFORCERS
from charter.services.pay.promises import ENFORCERS as PAY_ENFORCERS
from charter.services.video.promises import ENFORCERS as VIDEO_ENFORCERS

ENFORCERS: Mapping[str, frozenset[str]] = {
    "account": ACCOUNT_ENFORCERS,
    "cloud": CLOUD_ENFORCERS,
    "browser": BROWSER_ENFORCERS,
    "video": VIDEO_ENFORCERS,
    "pay": PAY_ENFORCERS,
    "find_device": FIND_DEVICE_ENFORCERS,
}
"""
Per catalog service that a package here implements, the ids of the enforcers it registers for
the catalog's ``service`` rules (``enforcer:`` in the catalog). The composition root refuses to
start when a service listed here lacks an enforcer one of its rules names; a catalog service
not listed is not built yet, and its ``service`` rules are reported ``pending``.
"""
