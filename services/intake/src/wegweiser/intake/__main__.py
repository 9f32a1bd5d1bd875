from wegweiser.common.serve import serve
from wegweiser.intake.app import build
from wegweiser.intake.settings import IntakeSettings

serve("intake", IntakeSettings, build)
