import sys

from wegweiser.common.serve import relay, serve
from wegweiser.intake.app import build
from wegweiser.intake.settings import IntakeSettings

if sys.argv[1:] == ["relay"]:  # the outbox relay alone (INTAKE_OUTBOX_RELAY=false on the HTTP processes)
    relay("intake", IntakeSettings, build)
else:
    serve("intake", IntakeSettings, build)
