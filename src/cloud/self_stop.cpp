// The self-stop user data of `d2l cloud launch --autostop` (see d2l/cloud/self_stop.h).
#include "d2l/cloud/self_stop.h"

#include <cmath>

#include "d2l/cloud/ec2.h"
#include "d2l/cloud/iam.h"
#include "d2l/cloud/imds.h"
#include "d2l/core/duration.h"
#include "d2l/core/error.h"

namespace d2l::cloud {

std::string idle_check_script(double idle_s) {
  const long idle = std::lround(idle_s);
  return R"D2L(#!/bin/bash
# d2l-idle-check: written by `d2l cloud launch --autostop`. Shuts the machine down after )D2L" +
         format_duration(idle_s) + R"D2L( idle.
set -u
IDLE_S=)D2L" +
         std::to_string(idle) +
         R"D2L(
STATE="${D2L_AUTOSTOP_STATE:-/var/lib/d2l-autostop}"
PROC="${D2L_PROC:-/proc}"
SHUTDOWN="${D2L_SHUTDOWN:-shutdown -h now}"
busy=""
if command -v nvidia-smi >/dev/null 2>&1; then
  while read -r u; do
    u="${u//[^0-9]/}"
    if [ -n "$u" ] && [ "$u" -ge 5 ]; then busy="gpu ${u}%"; fi
  done < <(nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits 2>/dev/null)
fi
if [ -z "$busy" ] && command -v ss >/dev/null 2>&1; then
  n=$(ss -Htn state established '( sport = :22 )' 2>/dev/null | grep -c .)
  if [ "${n:-0}" -gt 0 ]; then busy="ssh ${n} connection(s)"; fi
fi
if [ -z "$busy" ] && pgrep -f '(^|/)d2l(-torch)? +train( |$)' >/dev/null 2>&1; then
  busy="a d2l train run"
fi
if [ -z "$busy" ] && [ -r "$PROC/loadavg" ]; then
  read -r load _ < "$PROC/loadavg"
  cpus=$(nproc 2>/dev/null || echo 1)
  if awk -v l="$load" -v c="$cpus" 'BEGIN { exit !(l > c / 2) }'; then busy="load $load"; fi
fi
mkdir -p "$STATE"
now=$(date +%s)
if [ -n "$busy" ]; then
  rm -f "$STATE/idle-since"
  exit 0
fi
if [ ! -s "$STATE/idle-since" ]; then
  echo "$now" > "$STATE/idle-since"
  exit 0
fi
since=$(cat "$STATE/idle-since")
if [ $((now - since)) -ge "$IDLE_S" ]; then
  logger -t d2l-autostop "idle since $(date -d "@$since" 2>/dev/null || echo "$since"): shutting down" 2>/dev/null || true
  rm -f "$STATE/idle-since"
  $SHUTDOWN
fi
)D2L";
}

std::string self_stop_user_data(double idle_s) {
  if (!(idle_s >= 600) || idle_s > 30 * 86400.0)
    throw bad_input("cloud: --autostop: " + format_duration(idle_s) +
                    " is outside 10 minutes to 30 days");
  return "#!/bin/bash\n"
         "# d2l cloud launch --autostop: installs an idle check that shuts this machine down.\n"
         "set -e\n"
         "cat > /usr/local/sbin/d2l-idle-check <<'D2L_EOF'\n" +
         idle_check_script(idle_s) +
         "D2L_EOF\n"
         "chmod 0755 /usr/local/sbin/d2l-idle-check\n"
         "cat > /etc/systemd/system/d2l-autostop.service <<'D2L_EOF'\n"
         "[Unit]\n"
         "Description=d2l: shut down when idle\n"
         "[Service]\n"
         "Type=oneshot\n"
         "ExecStart=/usr/local/sbin/d2l-idle-check\n"
         "D2L_EOF\n"
         "cat > /etc/systemd/system/d2l-autostop.timer <<'D2L_EOF'\n"
         "[Unit]\n"
         "Description=d2l: check for idleness every 5 minutes\n"
         "[Timer]\n"
         "OnBootSec=10min\n"
         "OnUnitActiveSec=5min\n"
         "[Install]\n"
         "WantedBy=timers.target\n"
         "D2L_EOF\n"
         "rm -f /var/lib/d2l-autostop/idle-since\n"
         "systemctl daemon-reload\n"
         "systemctl enable --now d2l-autostop.timer\n";
}

CloudStopResult cloud_stop_this_instance(bool dry_run, const AwsSettings& settings) {
  const std::string what = "cloud-stop: ";
  CloudStopResult out;
  {
    std::optional<Imds> imds;
    try {
      imds.emplace(settings.imds_timeout_s);
    } catch (const ImdsUnreachable& e) {
      throw Error(what + "cannot find this instance: " + e.what());
    }
    const InstanceIdentity id = instance_identity(*imds);
    out.instance_id = id.instance_id;
    out.region = id.region;
  }
  check_region(out.region);
  Credentials creds;
  try {
    creds = resolve_credentials(settings);
  } catch (const Error& e) {
    throw Error(what + "no credentials to stop " + out.instance_id + " (" + e.what() +
                "); give the instance an IAM role allowed ec2:StopInstances on it");
  }
  out.credentials_source = creds.source;
  AwsClient client(creds, out.region);
  std::vector<std::pair<std::string, std::string>> params = {{"InstanceId.1", out.instance_id}};
  if (dry_run) params.emplace_back("DryRun", "true");
  try {
    const XmlNode reply = client.query(Service::Ec2, "StopInstances", params);
    if (const XmlNode* item = reply.path({"instancesSet", "item"})) {
      if (const XmlNode* p = item->path({"previousState", "name"})) out.previous_state = p->text;
      if (const XmlNode* c = item->path({"currentState", "name"})) out.current_state = c->text;
    }
  } catch (const AwsError& e) {
    if (dry_run && e.code() == "DryRunOperation") return out;  // allowed: nothing stopped
    if (e.code() == "UnauthorizedOperation")
      throw Error(what + creds.source + " may not stop " + out.instance_id +
                  " (UnauthorizedOperation): the role needs ec2:StopInstances on "
                  "arn:" +
                  partition_of(out.region) + ":ec2:" + out.region + ":*:instance/" +
                  out.instance_id + " (add it to the role's policy in the IAM console)");
    throw Error(what + e.what());
  }
  return out;
}

}  // namespace d2l::cloud
