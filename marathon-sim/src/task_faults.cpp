// Task faults, task failures and Marathon's launch backoff.
//
// Marathon (core/launchqueue/impl/RateLimiter.scala) keeps one launch delay
// per app and config version (lastConfigChangeAt): the first failure of a
// task that was not killed sets it to backoffSeconds, every further one to
// min(maxLaunchDelaySeconds, delay * backoffFactor), each counted from the
// failure. A new config version (a changed app, a restart) starts without
// one, DELETE /v2/queue/{app}/delay drops it, and a delay whose deadline
// passed 60 s ago is dropped (resetViableTasksDelays, minimumTaskExecution
// 60 s). While the deadline lies ahead the app takes no offers.
#include "ids.hpp"
#include "simulator.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

namespace hmc::marathon_sim {

namespace {

constexpr std::chrono::seconds kViableTaskDuration{60};

double number_or(const json::object& o, const char* key, double def) {
  auto* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : def;
}

std::vector<std::string> fetch_uris(const json::object& def) {
  std::vector<std::string> out;
  if (auto* f = def.if_contains("fetch"); f && f->is_array())
    for (const auto& e : f->get_array())
      if (e.is_object())
        if (auto* u = e.get_object().if_contains("uri"); u && u->is_string()) out.emplace_back(u->get_string());
  if (auto* u = def.if_contains("uris"); u && u->is_array())
    for (const auto& e : u->get_array())
      if (e.is_string() && std::find(out.begin(), out.end(), e.get_string()) == out.end())
        out.emplace_back(e.get_string());
  return out;
}

std::string docker_image(const json::object& def) {
  const auto* c = def.if_contains("container");
  if (!c || !c->is_object()) return {};
  const auto* d = c->get_object().if_contains("docker");
  if (!d || !d->is_object()) return {};
  const auto* i = d->get_object().if_contains("image");
  return i && i->is_string() ? std::string(i->get_string()) : std::string{};
}

bool valid_id(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

const char* task_fault_kind_name(TaskFaultKind k) {
  switch (k) {
    case TaskFaultKind::fetch: return "fetch";
    case TaskFaultKind::image: return "image";
    case TaskFaultKind::exit: return "exit";
  }
  return "exit";
}

bool glob_match(std::string_view p, std::string_view t) {
  // Iterative matching with one backtrack point: linear for one `*`, fine for a few.
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && p[pi] == t[ti]) {
      ++pi;
      ++ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

TaskFault parse_task_fault(std::string_view text) {
  auto bad = [](const std::string& why) { return std::invalid_argument("task fault: " + why); };
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) throw bad("body is not a JSON object");
  TaskFault f;
  bool has_kind = false, has_after = false, has_exit_code = false;
  for (const auto& kv : v.get_object()) {
    const std::string key(kv.key());
    const auto& val = kv.value();
    auto text_of = [&]() -> std::string {
      if (!val.is_string()) throw bad("'" + key + "' must be a string");
      return std::string(val.get_string());
    };
    if (key == "kind") {
      const auto k = text_of();
      if (k == "fetch") f.kind = TaskFaultKind::fetch;
      else if (k == "image") f.kind = TaskFaultKind::image;
      else if (k == "exit") f.kind = TaskFaultKind::exit;
      else throw bad("'kind' must be one of fetch, image, exit (got '" + k + "')");
      has_kind = true;
    } else if (key == "app") {
      f.app = text_of();
    } else if (key == "fetchUri") {
      f.fetch_uri = text_of();
    } else if (key == "image") {
      f.image = text_of();
    } else if (key == "message") {
      f.message = text_of();
    } else if (key == "id") {
      f.id = text_of();
      if (!valid_id(f.id)) throw bad("'id' must be letters, digits, '-', '_' or '.' (got '" + f.id + "')");
    } else if (key == "afterRunning") {
      has_after = true;
      if (val.is_number()) {
        const double ms = val.to_number<double>();
        if (ms < 0) throw bad("'afterRunning' must not be negative");
        f.after_running = std::chrono::milliseconds{static_cast<long long>(ms)};
      } else {
        std::string err;
        auto d = parse_duration(text_of(), &err);
        if (!d) throw bad("'afterRunning': " + err);
        f.after_running = *d;
      }
    } else if (key == "exitCode") {
      has_exit_code = true;
      if (!val.is_int64() && !val.is_uint64()) throw bad("'exitCode' must be an integer");
      const auto code = val.to_number<long long>();
      if (code < 0 || code > 255) throw bad("'exitCode' must be between 0 and 255");
      f.exit_code = static_cast<int>(code);
    } else {
      throw bad("unknown field '" + key + "' (known: kind, app, fetchUri, image, afterRunning, exitCode, message, id)");
    }
  }
  if (!has_kind) throw bad("'kind' is missing (fetch, image or exit)");
  if (f.app.empty() && f.fetch_uri.empty() && f.image.empty())
    throw bad("one of 'app', 'fetchUri', 'image' is needed");
  if (f.kind != TaskFaultKind::exit && has_after) throw bad("'afterRunning' is for kind exit only");
  if (f.kind != TaskFaultKind::exit && has_exit_code) throw bad("'exitCode' is for kind exit only");
  return f;
}

std::string task_fault_json(const TaskFault& f) {
  json::object o;
  o["id"] = f.id;
  o["kind"] = task_fault_kind_name(f.kind);
  if (!f.app.empty()) o["app"] = f.app;
  if (!f.fetch_uri.empty()) o["fetchUri"] = f.fetch_uri;
  if (!f.image.empty()) o["image"] = f.image;
  if (f.kind == TaskFaultKind::exit) {
    o["afterRunning"] = std::to_string(f.after_running.count()) + "ms";
    o["exitCode"] = f.exit_code;
  }
  if (!f.message.empty()) o["message"] = f.message;
  return json::serialize(o);
}

bool Simulator::add_task_fault(TaskFault fault) {
  if (fault.id.empty()) {
    do {
      fault.id = "tf-" + std::to_string(++task_fault_counter_);
    } while (std::any_of(task_faults_.begin(), task_faults_.end(), [&](const TaskFault& f) { return f.id == fault.id; }));
  } else if (std::any_of(task_faults_.begin(), task_faults_.end(), [&](const TaskFault& f) { return f.id == fault.id; })) {
    return false;
  }
  task_faults_.push_back(std::move(fault));
  return true;
}

Response Simulator::task_faults_endpoint(const Request& r, const std::string& path) {
  if (path == "/_sim/task-faults") {
    if (r.method == "GET") {
      std::string out = "{\"taskFaults\":[";
      for (std::size_t i = 0; i < task_faults_.size(); ++i) {
        if (i) out += ',';
        out += task_fault_json(task_faults_[i]);
      }
      out += "]}";
      return json_response(200, std::move(out));
    }
    if (r.method == "DELETE") {
      task_faults_.clear();
      return json_response(200, "{}");
    }
    if (r.method != "POST") return message(405, "HTTP 405 Method Not Allowed");
    TaskFault f;
    try {
      f = parse_task_fault(r.body);
    } catch (const std::invalid_argument& e) {
      return message(400, e.what());
    }
    const auto given = f.id;
    if (!add_task_fault(std::move(f))) return message(409, "task fault '" + given + "' exists");
    return json_response(201, json::serialize(json::object{{"id", task_faults_.back().id}}));
  }
  const auto id = path.substr(std::string_view("/_sim/task-faults/").size());
  if (r.method != "DELETE") return message(405, "HTTP 405 Method Not Allowed");
  auto it = std::find_if(task_faults_.begin(), task_faults_.end(), [&](const TaskFault& f) { return f.id == id; });
  if (it == task_faults_.end()) return message(404, "task fault '" + id + "' does not exist");
  task_faults_.erase(it);
  return json_response(200, "{}");
}

void Simulator::apply_task_faults(const App& app, Task& t) {
  if (task_faults_.empty()) return;
  const auto& def = app.spec.definition;
  for (const auto& f : task_faults_) {
    if (!f.app.empty() && !glob_match(f.app, app.spec.id)) continue;
    std::string uri;
    if (!f.fetch_uri.empty() || f.kind == TaskFaultKind::fetch) {
      const auto uris = fetch_uris(def);
      auto u = std::find_if(uris.begin(), uris.end(),
                            [&](const std::string& x) { return f.fetch_uri.empty() || glob_match(f.fetch_uri, x); });
      if (u == uris.end() && !f.fetch_uri.empty()) continue;
      if (u != uris.end()) uri = *u;
    }
    const auto image = docker_image(def);
    if (!f.image.empty() && (image.empty() || !glob_match(f.image, image))) continue;
    std::string msg = f.message;
    if (msg.empty()) {
      switch (f.kind) {
        case TaskFaultKind::fetch:
          // Mesos' containerizer status message; the fetcher's own line
          // (its stderr in the sandbox) names the URI.
          msg = "Failed to launch container: Failed to fetch all URIs for container '" + new_uuid() +
                "': exited with status 1";
          if (!uri.empty()) msg += "; Failed to fetch '" + uri + "'";
          break;
        case TaskFaultKind::image:
          // Mesos' Docker containerizer when `docker pull` fails.
          msg = "Failed to launch container: Failed to run 'docker -H unix:///var/run/docker.sock pull " + image +
                "': exited with status 1; stderr='Error response from daemon: pull access denied for " + image +
                ", repository does not exist or may require 'docker login''";
          break;
        case TaskFaultKind::exit:
          // The Mesos command executor's message.
          msg = "Command exited with status " + std::to_string(f.exit_code);
          break;
      }
    }
    t.fails_after_running = f.kind == TaskFaultKind::exit ? f.after_running : std::chrono::milliseconds{0};
    t.failure_message = std::move(msg);
    return;
  }
}

void Simulator::fail_task(App& app, std::size_t index) {
  Task t = std::move(app.tasks[index]);
  app.tasks.erase(app.tasks.begin() + static_cast<std::ptrdiff_t>(index));
  --live_tasks_;
  const auto message = t.failure_message;
  kill_task(&app, std::move(t), "TASK_FAILED", message);
  add_delay(app);
}

const LaunchDelay* Simulator::launch_delay(App& app) {
  if (!app.delay) return nullptr;
  if (app.delay->config != app.last_config_change_at || clock_->now() - kViableTaskDuration >= app.delay->deadline) {
    app.delay.reset();
    return nullptr;
  }
  return &*app.delay;
}

void Simulator::add_delay(App& app) {
  const auto& def = app.spec.definition;
  auto seconds = [](double s) { return std::chrono::nanoseconds{static_cast<long long>(std::llround(s * 1e9))}; };
  const auto backoff = seconds(number_or(def, "backoffSeconds", 1));
  const double factor = number_or(def, "backoffFactor", 1.15);
  const auto max_delay = seconds(number_or(def, "maxLaunchDelaySeconds", 300));
  const LaunchDelay* current = launch_delay(app);
  std::chrono::nanoseconds d = backoff;
  if (current)
    d = std::min(max_delay, std::chrono::nanoseconds{static_cast<long long>(
                                static_cast<double>(current->delay.count()) * factor)});
  if (d.count() <= 0) {  // Marathon: a deadline not in the future is no delay
    app.delay.reset();
    return;
  }
  LaunchDelay next;
  next.config = app.last_config_change_at;
  next.deadline = clock_->now() + std::chrono::duration_cast<TimePoint::duration>(d);
  next.delay = d;
  app.delay = next;
}

// Marathon's TaskStatsByVersion: each part only when it has tasks; lifeTime
// only over tasks that have started.
void append_task_stats(std::string& out, const App& app, TimePoint now) {
  auto stats = [&](auto pick) -> json::value {
    long staged = 0, running = 0;
    std::vector<double> lives;
    for (const auto& t : app.tasks) {
      if (!pick(t)) continue;
      (t.state == TaskState::running ? running : staged)++;
      if (t.started_at)
        lives.push_back(std::chrono::duration<double>(now - *t.started_at).count());
    }
    if (staged + running == 0) return nullptr;
    json::object s;
    s["counts"] = json::object{{"staged", staged},
                               {"running", running},
                               {"healthy", app.spec.has_health_checks ? running : 0},
                               {"unhealthy", 0}};
    if (!lives.empty()) {
      std::sort(lives.begin(), lives.end());
      double sum = 0;
      for (double l : lives) sum += l;
      const auto n = lives.size();
      const double median = n % 2 ? lives[n / 2] : (lives[n / 2 - 1] + lives[n / 2]) / 2;
      s["lifeTime"] = json::object{{"averageSeconds", sum / static_cast<double>(n)}, {"medianSeconds", median}};
    }
    return json::object{{"stats", std::move(s)}};
  };
  json::object o;
  const auto scaled = stats([&](const Task& t) { return format_time(t.staged_at) >= app.last_scaling_at; });
  if (!scaled.is_null()) o["startedAfterLastScaling"] = scaled;
  const auto latest = stats([&](const Task& t) { return t.version == app.last_config_change_at; });
  if (!latest.is_null()) o["withLatestConfig"] = latest;
  const auto outdated = stats([&](const Task& t) { return t.version != app.last_config_change_at; });
  if (!outdated.is_null()) o["withOutdatedConfig"] = outdated;
  const auto total = stats([](const Task&) { return true; });
  if (!total.is_null()) o["totalSummary"] = total;
  out += json::serialize(o);
}

}  // namespace hmc::marathon_sim
