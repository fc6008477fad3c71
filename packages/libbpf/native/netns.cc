// Network namespaces: a short-lived thread of its own per call (setns moves only the calling
// thread, and the JS thread must stay where it is).
#include "netns.h"

#include <errno.h>
#include <sched.h>

#include <thread>

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

}  // namespace wirescope
