#pragma once
/// \file d2l/d2l.h
/// The umbrella header: everything a reader of the book uses.
#include "d2l/core/accumulator.h"
#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/progress.h"
#include "d2l/core/timer.h"
#include "d2l/data/idx.h"
#include "d2l/data/registry.h"
#include "d2l/viz/animator.h"
#include "d2l/viz/images.h"
#include "d2l/viz/plot.h"
#ifdef D2L_WITH_TORCH
#include "d2l/core/device.h"
#include "d2l/data/loader.h"
#include "d2l/data/synthetic.h"
#include "d2l/models/lenet.h"
#include "d2l/models/linear.h"
#include "d2l/models/mlp.h"
#include "d2l/models/registry.h"
#include "d2l/train/checkpoint.h"
#include "d2l/train/evaluate.h"
#include "d2l/train/history.h"
#include "d2l/train/train.h"
#include "d2l/train/trainer.h"
#include "d2l/train/visualize.h"
#endif
