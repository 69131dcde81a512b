// A doctor report: statuses, JSON in and out, the table for a person, comparison.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "d2l/core/error.h"
#include "d2l/sys/environment.h"

namespace d2l::sys {

using nlohmann::json;

std::string to_string(ProbeStatus s) {
  switch (s) {
    case ProbeStatus::Pass:
      return "PASS";
    case ProbeStatus::Warn:
      return "WARN";
    case ProbeStatus::Fail:
      return "FAIL";
    case ProbeStatus::NA:
      return "n/a";
  }
  return "n/a";
}

ProbeStatus probe_status_from_string(const std::string& s) {
  if (s == "PASS") return ProbeStatus::Pass;
  if (s == "WARN") return ProbeStatus::Warn;
  if (s == "FAIL") return ProbeStatus::Fail;
  if (s == "n/a") return ProbeStatus::NA;
  throw bad_input("doctor: unknown probe status '" + s + "'");
}
bool DoctorReport::any_fail() const {
  for (const auto& p : probes)
    if (p.status == ProbeStatus::Fail) return true;
  return false;
}

const Probe* DoctorReport::find(const std::string& id) const {
  for (const auto& p : probes)
    if (p.id == id) return &p;
  return nullptr;
}
std::string report_json(const DoctorReport& r, int indent) {
  json j;
  j["schema"] = r.schema;
  j["time"] = r.unix_time;
  j["seconds"] = r.seconds;
  j["ok"] = !r.any_fail();
  json probes = json::array();
  std::map<std::string, int> counts;
  std::set<std::string> hint_ids;
  for (const auto& p : r.probes) {
    probes.push_back({{"id", p.id},
                      {"section", p.section},
                      {"label", p.label},
                      {"status", to_string(p.status)},
                      {"value", p.value},
                      {"hint", p.hint_id.empty() ? json(nullptr) : json(p.hint_id)}});
    ++counts[to_string(p.status)];
    if (!p.hint_id.empty()) hint_ids.insert(p.hint_id);
  }
  j["probes"] = probes;
  j["counts"] = {{"PASS", counts["PASS"]},
                 {"WARN", counts["WARN"]},
                 {"FAIL", counts["FAIL"]},
                 {"n/a", counts["n/a"]}};
  json hints = json::object();
  for (const auto& id : hint_ids)
    if (const Hint* h = find_hint(id)) hints[id] = {{"symptom", h->symptom}, {"fix", h->fix}};
  j["hints"] = hints;
  return j.dump(indent);
}

DoctorReport report_from_json(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throw bad_input("doctor report: not JSON: " + std::string(e.what()).substr(0, 120));
  }
  if (!j.is_object() || j.value("schema", "") != "d2l.doctor/1")
    throw bad_input("doctor report: expected schema d2l.doctor/1");
  DoctorReport r;
  r.unix_time = j.value("time", 0.0);
  r.seconds = j.value("seconds", 0.0);
  if (!j.contains("probes") || !j["probes"].is_array())
    throw bad_input("doctor report: no probes array");
  for (const auto& p : j["probes"]) {
    if (!p.is_object() || !p.contains("id") || !p["id"].is_string())
      throw bad_input("doctor report: a probe without an id");
    Probe q;
    q.id = p["id"].get<std::string>();
    q.section = p.value("section", "");
    q.label = p.value("label", q.id);
    q.status = probe_status_from_string(p.value("status", "n/a"));
    q.value = p.value("value", "");
    if (p.contains("hint") && p["hint"].is_string()) q.hint_id = p["hint"].get<std::string>();
    r.probes.push_back(std::move(q));
  }
  return r;
}

std::string render_report(const DoctorReport& r, bool color) {
  std::ostringstream o;
  std::string section;
  auto paint = [&](ProbeStatus s) {
    const std::string t = to_string(s);
    if (!color) return t;
    const char* c = s == ProbeStatus::Pass   ? "\033[32m"
                    : s == ProbeStatus::Warn ? "\033[33m"
                    : s == ProbeStatus::Fail ? "\033[31m"
                                             : "\033[2m";
    return std::string(c) + t + "\033[0m";
  };
  std::set<std::string> hints;
  std::map<std::string, int> counts;
  for (const auto& p : r.probes) {
    if (p.section != section) {
      section = p.section;
      o << (o.tellp() > 0 ? "\n" : "") << section << "\n";
    }
    const std::string st = to_string(p.status);
    o << "  " << paint(p.status) << std::string(st.size() < 5 ? 5 - st.size() : 0, ' ') << " "
      << p.label << ": " << p.value << "\n";
    if (!p.hint_id.empty() && p.status != ProbeStatus::Pass) hints.insert(p.hint_id);
    ++counts[st];
  }
  if (!hints.empty()) {
    o << "\nhints\n";
    for (const auto& id : hints)
      if (const Hint* h = find_hint(id)) o << "  " << h->symptom << ": " << h->fix << "\n";
  }
  char tail[160];
  std::snprintf(tail, sizeof tail, "\n%d PASS, %d WARN, %d FAIL, %d n/a (%.2f s)\n", counts["PASS"],
                counts["WARN"], counts["FAIL"], counts["n/a"], r.seconds);
  o << tail;
  return o.str();
}

bool is_volatile_probe(const std::string& id) {
  for (const char* prefix : {"memory", "disk.", "compute.", "nvidia.gpu"})
    if (id.rfind(prefix, 0) == 0 && id != "nvidia.gpus") return true;
  return false;
}

std::vector<ProbeDifference> compare_reports(const DoctorReport& saved, const DoctorReport& now) {
  std::vector<ProbeDifference> out;
  for (const auto& p : now.probes) {
    const Probe* b = saved.find(p.id);
    if (!b) {
      out.push_back({p.id, p.label, std::nullopt, p});
    } else if (b->status != p.status || (b->value != p.value && !is_volatile_probe(p.id))) {
      out.push_back({p.id, p.label, *b, p});
    }
  }
  for (const auto& b : saved.probes)
    if (!now.find(b.id)) out.push_back({b.id, b.label, b, std::nullopt});
  return out;
}

}  // namespace d2l::sys
