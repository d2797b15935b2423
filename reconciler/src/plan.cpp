#include "hmc/reconciler/plan.hpp"

#include <type_traits>

namespace hmc::reconciler {

const char* action_name(const Action& a) noexcept {
  return std::visit(
      [](const auto& x) -> const char* {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, CreateGroup>) return "CreateGroup";
        else if constexpr (std::is_same_v<T, UpdateGroup>) return "UpdateGroup";
        else if constexpr (std::is_same_v<T, SuspendGroup>) return "SuspendGroup";
        else if constexpr (std::is_same_v<T, CancelDeployment>) return "CancelDeployment";
        else if constexpr (std::is_same_v<T, DeleteGroup>) return "DeleteGroup";
        else if constexpr (std::is_same_v<T, DeleteHeronState>) return "DeleteHeronState";
        else if constexpr (std::is_same_v<T, WriteHeronState>) return "WriteHeronState";
        else if constexpr (std::is_same_v<T, ResetLaunchDelay>) return "ResetLaunchDelay";
        else if constexpr (std::is_same_v<T, RestartApp>) return "RestartApp";
        else return "ForgetTopology";
      },
      a);
}

std::string describe(const Action& a) {
  return std::visit(
      [&](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        std::string s = action_name(a);
        if constexpr (std::is_same_v<T, CreateGroup>) return s + " " + x.group_id;
        else if constexpr (std::is_same_v<T, UpdateGroup>)
          return s + " " + x.group_id + (x.force ? " force" : "");
        else if constexpr (std::is_same_v<T, SuspendGroup>)
          return s + " " + x.group_id + (x.force ? " force" : "");
        else if constexpr (std::is_same_v<T, CancelDeployment>) return s + " " + x.deployment_id;
        else if constexpr (std::is_same_v<T, DeleteGroup>)
          return s + " " + x.group_id + (x.force ? " force" : "");
        else if constexpr (std::is_same_v<T, DeleteHeronState>)
          return s + " " + std::to_string(x.paths.size()) + " nodes";
        else if constexpr (std::is_same_v<T, WriteHeronState>)
          return s + " " + std::to_string(x.nodes.size()) + " nodes";
        else if constexpr (std::is_same_v<T, ResetLaunchDelay>) return s + " " + x.app_id;
        else if constexpr (std::is_same_v<T, RestartApp>)
          return s + " " + x.app_id + (x.force ? " force" : "");
        else return s + " " + x.name;
      },
      a);
}

}  // namespace hmc::reconciler
