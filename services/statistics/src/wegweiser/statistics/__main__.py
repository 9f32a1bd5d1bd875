from wegweiser.common.serve import serve
from wegweiser.statistics.app import build
from wegweiser.statistics.settings import StatisticsSettings

if __name__ == "__main__":  # a rebuild's worker processes import this module again
    serve("statistics", StatisticsSettings, build)
