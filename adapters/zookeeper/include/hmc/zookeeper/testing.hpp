#pragma once
// Test-only controls of the real ZooKeeper client. Not for production code.

#include "hmc/zookeeper/zk_client.hpp"

namespace hmc::zk {

// Makes the server expire `client`'s current session: opens a second handle
// with the same session id and password, waits until it is connected and
// closes it (closing ends the session on the server). The client then sees
// `expired`, fires its watchers with `session_lost` and opens a new session.
// Errors: invalid (not a client made by hmc::zk::connect), unavailable.
Result<void> expire_session_for_testing(ZkClient& client);

}  // namespace hmc::zk
