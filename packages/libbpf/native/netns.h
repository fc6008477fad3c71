// Calls made inside another network namespace without moving the caller's thread.
#pragma once
#include <napi.h>

#include <functional>
#include <string>

namespace wirescope {

// Runs fn in the network namespace open as netns_fd (-1: the current one) on a thread of its
// own, so the caller's thread never changes namespace. Returns fn's result, or -errno when
// the namespace cannot be entered.
int RunInNetns(int netns_fd, const std::function<int()>& fn);

// The namespace file at path opened for RunInNetns (-1 for "": the current namespace); throws
// (at step) when it cannot be opened.
int OpenNetnsOrThrow(Napi::Env env, const std::string& path, const char* step);

}  // namespace wirescope
