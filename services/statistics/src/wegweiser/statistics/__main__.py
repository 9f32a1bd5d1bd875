from wegweiser.common.serve import serve
from wegweiser.statistics.app import build
from wegweiser.statistics.settings import StatisticsSettings

serve("statistics", StatisticsSettings, build)
