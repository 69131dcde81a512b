#pragma once
/// \file d2l/cloud/self_stop.h
/// Self-stop for a launched instance, without a role and without d2l on it: user data that
/// installs a small idle check (a shell script run every 5 minutes by a systemd timer) that
/// judges idleness from the same signals as `d2l autostop`, with the tools the Deep Learning AMI
/// has, and runs `shutdown -h now` after the idle time; the instance's shutdown behaviour (stop,
/// or terminate) decides what that shutdown does.
#include <string>

namespace d2l::cloud {

/// The idle check, a bash script. Busy when any of: a GPU at 5 % utilisation or more
/// (`nvidia-smi`), an established SSH connection (`ss`; Jupyter is reached through the SSH
/// tunnel, so it counts too), a `d2l train` or `d2l-torch train` process (`pgrep`), a 1-minute
/// load average above half the CPUs. It keeps the time idleness began in
/// `$D2L_AUTOSTOP_STATE/idle-since` (default /var/lib/d2l-autostop) and, once idle for
/// `idle_s` seconds, runs `$D2L_SHUTDOWN` (default `shutdown -h now`) and logs why to syslog
/// (`logger -t d2l-autostop`). `/proc/loadavg` is read from `$D2L_PROC` (default /proc).
std::string idle_check_script(double idle_s);

/// The user data (a shell script, under 16 KB) that installs idle_check_script() as
/// /usr/local/sbin/d2l-idle-check with `d2l-autostop.service` and a `d2l-autostop.timer`
/// every 5 minutes, and starts the timer. Throws d2l::bad_input when `idle_s` is under 10
/// minutes (the timer's resolution and a user's first login need that much) or over 30 days.
std::string self_stop_user_data(double idle_s);

}  // namespace d2l::cloud
