#pragma once
// One row of a table test of reconcile(): arrange a world, expect a plan.

#include "world.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace hmc::reconciler::testing {

struct Expect {
  const char* type;
  ConditionStatus status;
  const char* reason;
};

struct Case {
  const char* name;
  std::function<void(World&)> arrange;
  std::vector<std::string> actions;
  Phase phase;
  Health health;
  std::vector<Expect> conds;
  bool requeue;
  std::function<void(const World&, const Plan&)> check = nullptr;
};

// Runs reconcile() on the arranged world and checks the row's expectations,
// and that the same input gives the same plan again.
inline void expect_case(const Case& c, World& w) {
  c.arrange(w);
  const Plan p = w.run();
  EXPECT_EQ(action_names(p), c.actions);
  EXPECT_EQ(to_string(p.status.phase), std::string(to_string(c.phase)));
  EXPECT_EQ(to_string(p.status.health), std::string(to_string(c.health)));
  for (const auto& e : c.conds) {
    const Condition* got = find_condition(p.status.conditions, e.type);
    ASSERT_NE(got, nullptr) << "missing condition " << e.type;
    EXPECT_EQ(to_string(got->status), std::string(to_string(e.status))) << e.type;
    EXPECT_EQ(got->reason, e.reason) << e.type << ": " << got->message;
  }
  EXPECT_EQ(p.requeue_after.has_value(), c.requeue);
  if (c.requeue && p.actions.empty() && c.phase != Phase::Failed) {
    EXPECT_EQ(*p.requeue_after, w.cfg.progress_requeue);
  }
  EXPECT_EQ(p.status.name, w.t.name);
  EXPECT_EQ(p.status.group_id, w.gid());
  EXPECT_EQ(p.status.updated_at, w.now);
  if (c.check) c.check(w, p);
  const Plan again = w.run();
  EXPECT_EQ(again.actions, p.actions);
  EXPECT_EQ(again.status, p.status);
}

}  // namespace hmc::reconciler::testing
