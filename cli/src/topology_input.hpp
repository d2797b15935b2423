#pragma once
// A topology's Heron definition on the way into its desired node: the
// --topology-package / --topology-defn flags, what update keeps, the
// submitting user, and the checks before anything is written.

#include "spec_loader.hpp"

#include <string>

namespace hmc::cli {

// Reads the definition --topology-package or --topology-defn names (if any)
// into spec.topology: topologyDefn, topologyDefnFile when a package's only
// .defn is taken, and topologyId from the definition when the spec has none.
// Prints the problem and returns exit_usage, else 0. Touches no ZooKeeper.
int read_topology_flags(Session& s, LoadedSpec& spec);

// update and diff: a spec without topologyDefn (and no flag) keeps the
// current node's, with its topologyDefnFile; and its submissionUser.
void keep_heron_fields(LoadedSpec& spec, const std::string& current_data, const std::string& current_label);

// submit: submissionUser is the submitting user unless the spec names one,
// taken as Heron's CLI takes it (Python's getpass.getuser(): LOGNAME, USER,
// LNAME, USERNAME, then the password database).
void set_submission_user(Session& s, reconciler::DesiredTopology& t);

// With a topologyDefn: decodes, checks and packs it, and checks the node
// against it (heron_topology.hpp); prints every problem and returns
// exit_usage. With `announce`, prints a line about the definition on success.
int check_topology_defn(Session& s, const LoadedSpec& spec, bool announce);

}  // namespace hmc::cli
