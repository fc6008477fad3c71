// Network namespaces: a short-lived thread of its own per call (setns moves only the calling
// thread, and the JS thread must stay where it is).
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <thread>

#include "errors.h"

namespace wirescope {

int RunInNetns(int netns_fd, const std::function<int()>& fn) {
  if (netns_fd < 0) return fn();
  int result = 0;
  std::thread worker([&] {
    if (setns(netns_fd, CLONE_NEWNET) != 0) {
      result = -errno;
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

int OpenNetnsOrThrow(Napi::Env env, const std::string& path, const char* step) {
  if (path.empty()) return -1;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, step, errno, "cannot open network namespace " + path);
  return fd;
}

}  // namespace wirescope
