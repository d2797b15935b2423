#include "hmc/reconciler/reconcile.hpp"

namespace hmc::reconciler {

Plan reconcile(const ReconcilerConfig&, const ReconcileInput& in) {
  Plan p;
  p.status.name = in.name;
  p.status.observed_generation = in.desired_version;
  p.status.updated_at = in.now;
  return p;
}

}  // namespace hmc::reconciler
