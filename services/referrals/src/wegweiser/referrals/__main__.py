from wegweiser.common.serve import serve
from wegweiser.referrals.app import build
from wegweiser.referrals.settings import ReferralsSettings

serve("referrals", ReferralsSettings, build)
