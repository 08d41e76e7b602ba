"""
The ecosystem's services on the gate: one package each, owning its tables (registered with
:mod:`charter.store.registry`) and built by the composition root with what it needs handed in.

- :mod:`charter.services.account`: accounts, sign-in, sessions, 2-step verification;
- :mod:`charter.services.oauth`: the OAuth 2.0 / OpenID Connect provider;
- :mod:`charter.services.credentials`: service API keys and interim user tokens;
- :mod:`charter.services.staff`: staff roles of the Privacy Center;
- :mod:`charter.services.cloud`: sync between a person's devices, trash, shared links;
- :mod:`charter.services.usage`: app usage events, DP aggregates with a privacy budget;
- :mod:`charter.services.ads`: advertising IDs, segments from allowed sources, ad decisions;
- :mod:`charter.services.ai`: no training on user data, training data from non-personal sources;
- :mod:`charter.services.browser`, :mod:`charter.services.video`, :mod:`charter.services.pay`:
  Mi Browser, Mi Video and Mi Pay;
- :mod:`charter.services.themes`, :mod:`charter.services.app_vault`,
  :mod:`charter.services.get_apps`: the content services (store, cards, app store);
- :mod:`charter.services.aggregates`: the analytics counters of the content services;
- :mod:`charter.services.find_device`: locate, lost mode, ring, lock, erase, sealed positions.
"""

from collections.abc import Mapping

from charter.services.account.promises import ENFORCERS as ACCOUNT_ENFORCERS
from charter.services.ads.promises import ENFORCERS as ADS_ENFORCERS
from charter.services.app_vault.promises import ENFORCERS as APP_VAULT_ENFORCERS
from charter.services.browser.promises import ENFORCERS as BROWSER_ENFORCERS
from charter.services.cloud.promises import ENFORCERS as CLOUD_ENFORCERS
from charter.services.find_device.promises import ENFORCERS as FIND_DEVICE_ENFORCERS
from charter.services.get_apps.promises import ENFORCERS as GET_APPS_ENFORCERS
from charter.services.pay.promises import ENFORCERS as PAY_ENFORCERS
from charter.services.themes.promises import ENFORCERS as THEMES_ENFORCERS
from charter.services.usage.promises import ENFORCERS as USAGE_ENFORCERS
from charter.services.video.promises import ENFORCERS as VIDEO_ENFORCERS

ENFORCERS: Mapping[str, frozenset[str]] = {
    "account": ACCOUNT_ENFORCERS,
    "cloud": CLOUD_ENFORCERS,
    "app_usage_data": USAGE_ENFORCERS,
    "advertisement": ADS_ENFORCERS,
    "browser": BROWSER_ENFORCERS,
    "video": VIDEO_ENFORCERS,
    "pay": PAY_ENFORCERS,
    "themes": THEMES_ENFORCERS,
    "app_vault": APP_VAULT_ENFORCERS,
    "get_apps": GET_APPS_ENFORCERS,
    "find_device": FIND_DEVICE_ENFORCERS,
}
"""
Per catalog service that a package here implements, the ids of the enforcers it registers for
the catalog's ``service`` rules (``enforcer:`` in the catalog). The composition root refuses to
start when a service listed here lacks an enforcer one of its rules names; a catalog service
not listed is not built yet, and its ``service`` rules are reported ``pending``.
"""
