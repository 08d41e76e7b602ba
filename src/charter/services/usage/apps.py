"""The public domain of app-usage aggregates: the system's own apps. A released histogram has
one count per app listed here (the categories are public, so the set of released categories
never depends on the data); any other package is dropped before counting."""

from __future__ import annotations

SYSTEM_APPS: tuple[str, ...] = (
    "com.android.browser", "com.android.camera", "com.android.contacts", "com.android.deskclock",
    "com.android.email", "com.android.fileexplorer", "com.android.mms", "com.android.settings",
    "com.android.soundrecorder", "com.android.thememanager", "com.mi.android.globalFileexplorer",
    "com.miui.calculator", "com.miui.cleanmaster", "com.miui.compass", "com.miui.gallery",
    "com.miui.health", "com.miui.home", "com.miui.miservice", "com.miui.notes",
    "com.miui.player", "com.miui.screenrecorder", "com.miui.securitycenter", "com.miui.video",
    "com.miui.videoplayer", "com.miui.weather2", "com.xiaomi.calendar", "com.xiaomi.discover",
    "com.xiaomi.glgm", "com.xiaomi.midrop", "com.xiaomi.mipicks", "com.xiaomi.scanner",
    "com.mipay.wallet", "com.miui.android.fashiongallery", "com.miui.yellowpage",
    "com.xiaomi.shop", "com.xiaomi.smarthome", "com.xiaomi.payment", "com.miui.bugreport",
    "com.miui.fm", "com.miui.freeform",
)  # fmt: skip

INDEX = {name: i for i, name in enumerate(SYSTEM_APPS)}
