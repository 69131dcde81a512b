#pragma once
/// \file d2l/sys/procfs.h
/// The /proc and /sys readers moved down to the core (d2l/core/procfs.h, namespace
/// d2l::procfs), so that every area reads /proc through one reader. This header keeps their
/// names reachable as d2l::sys::NAME for the sys area and its users.
#include "d2l/core/procfs.h"

namespace d2l::sys {
using namespace d2l::procfs;  // NOLINT(google-build-using-namespace): the sys area's view
}  // namespace d2l::sys
