// hue/hue.hpp — everything a hue program needs, in one include.
#pragma once

#include <hue/config.hpp>
#include <hue/coro.hpp>
#include <hue/handler_info.hpp>
#include <hue/net.hpp>
#include <hue/reactor.hpp>
#include <hue/runtime.hpp>
#include <hue/stats.hpp>
#include <hue/task.hpp>
