"""What the device test (static/core/device-check.js) says, in the page's language.

One test serves the practitioner's onboarding and every video consultation's page. The page also
gives the test its ICE servers (``ice_servers`` in the template's context, built by the view), so
the test can check that the relay server (TURN) answers from this network.
"""

from django.utils.translation import gettext as _


def device_texts() -> dict:
    """What the device test says, in the page's language, including the plain help for each
    way it can fail and each browser's own permission settings."""
    return {
        "cameraOk": _("Camera: works."),
        "cameraKo": _("Camera: not available."),
        "microphoneOk": _("Microphone: works."),
        "microphoneKo": _("Microphone: not available."),
        "networkOk": _("Connection to Consulto: good (%(ms)s ms round trip)."),
        "networkSlow": _("Connection to Consulto: slow (%(ms)s ms round trip); video may freeze."),
        "networkKo": _("Connection to Consulto: no answer. Check your internet connection."),
        "speakerOk": _("Speaker: you heard the sound."),
        "relayOk": _("Relay server (TURN): reachable (%(ms)s ms)."),
        "relayKo": _("Relay server (TURN): unreachable from this network."),
        "relayNone": _(
            "Relay server (TURN): none set up on this platform; calls use direct connections only."
        ),
        "relayUnsupported": _("Relay server (TURN): this browser cannot test it."),
        "relayHelp": _(
            "Your network or firewall blocks the relay server that carries the call when a "
            "direct connection is impossible. Try another network (the 4G of your phone, for "
            "example), or ask your IT department to allow UDP port 3478 and TCP port 443 "
            "towards the relay server. The call may still work directly."
        ),
        "help": {
            "denied_chrome": _(
                "You refused access to the camera or microphone. In Chrome: click the camera "
                "icon (or the padlock) at the left of the address bar, choose “Allow” for the "
                "camera and the microphone, then click “Test again”."
            ),
            "denied_edge": _(
                "You refused access to the camera or microphone. In Edge: click the padlock at "
                "the left of the address bar, open “Permissions for this site”, allow the "
                "camera and the microphone, then click “Test again”."
            ),
            "denied_firefox": _(
                "You refused access to the camera or microphone. In Firefox: click the crossed "
                "camera icon in the address bar, remove the block, then click “Test again” and "
                "answer “Allow”."
            ),
            "denied_safari": _(
                "You refused access to the camera or microphone. In Safari: open Safari > "
                "Settings for this website, set Camera and Microphone to “Allow”, then click "
                "“Test again”. On an iPhone: Settings > Safari > Camera and Microphone."
            ),
            "denied_other": _(
                "You refused access to the camera or microphone. Open your browser's settings "
                "for this site, allow the camera and the microphone, then click “Test again”."
            ),
            "not_found": _(
                "No camera or microphone was found. Plug one in (or check that it is switched "
                "on), then click “Test again”."
            ),
            "in_use": _(
                "The camera or microphone is used by another application (another video call?). "
                "Close it, then click “Test again”."
            ),
            "insecure": _(
                "The browser only gives the camera to secure pages: open Consulto with an "
                "address starting with https://."
            ),
            "unsupported": _(
                "This browser cannot make video calls. Use a recent Chrome, Edge, Firefox or "
                "Safari."
            ),
        },
    }
