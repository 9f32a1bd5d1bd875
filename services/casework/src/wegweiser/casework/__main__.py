from wegweiser.casework.app import build
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common.serve import serve

serve("casework", CaseworkSettings, build)
