#pragma once
// Specs from files and desired nodes from ZooKeeper, as the commands need them.

#include "session.hpp"

#include <boost/system/result.hpp>

#include <string>

namespace hmc::cli {

struct LoadedSpec {
  std::string source;  // the file name, or <stdin>
  reconciler::DesiredTopology topology;
  // Whether the spec itself gives them (beside a topologyDefn they are overrides).
  bool gave_containers = false;
  bool gave_resources = false;
  // Where topology.topology_defn came from, for messages ("word-count.defn in
  // wc.tar.gz"); empty without one.
  std::string defn_source;
};

// Reads, converts and validates a spec file; prints every problem and returns
// exit_usage when it is not a valid spec, else 0.
int load_spec(Session& s, const std::string& path, LoadedSpec& out);

// Refuses (exit_usage) a NAME argument that is no valid topology name: it is
// used as a node path segment, so '/', '..' and friends never get that far.
int check_name_arg(Session& s, const std::string& name);

// The `state` field of a desired node's JSON; empty if unreadable.
std::string node_state(const std::string& data);

// A spec without topologyId keeps the one of the node it replaces.
void keep_topology_id(reconciler::DesiredTopology& t, const std::string& current_data);

// The node's canonical JSON if it is a valid spec, else its JSON as is (or the
// raw text if it is no JSON at all).
std::string canonical_desired(const std::string& data);
// `text` as indented JSON, or as is when it is not JSON.
std::string pretty_or_raw(const std::string& text);

// The node's JSON with `state` set to `target`. A valid spec is rewritten in
// canonical form; an invalid one can still be killed (only `state` changes).
struct StateFlip {
  std::string previous;  // the state before
  std::string data;
};
boost::system::result<StateFlip, std::string> with_state(const std::string& data, reconciler::DesiredState target);

}  // namespace hmc::cli
