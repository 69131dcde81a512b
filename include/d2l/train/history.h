#pragma once
/// \file d2l/train/history.h
/// The history of a training run: plain data, defined in the torch-free core
/// (d2l/core/history.h) so that `d2l plot` and the figure layer read runs through it too.
#include "d2l/core/history.h"
