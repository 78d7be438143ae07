#include "bench/tsbs/reference.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace timestore::bench::tsbs {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

size_t FieldIndex(const std::string& name) {
  for (size_t i = 0; i < kNumFields; ++i) {
    if (kFieldNames[i] == name) return i;
  }
  return kNumFields;
}

struct Accumulator {
  std::vector<double> max;
  std::vector<double> sum;
  int64_t n = 0;
};

}  // namespace

ReferenceData::ReferenceData(const Options& options) {
  Options o = options;
  o.late_fraction = 0;  // the same rows, in time order
  CpuGenerator gen(o);
  for (const HostTags& h : gen.hosts()) host_names_.push_back(h.values[0]);
  rows_.reserve(static_cast<size_t>(gen.total_rows()));
  Row row;
  while (gen.Next(&row)) {
    StoredRow s;
    s.ts = row.timestamp_ns;
    s.host = static_cast<int32_t>(row.tags - gen.hosts().data());
    s.fields = row.fields;
    rows_.push_back(s);
  }
}

std::vector<ResultRow> ReferenceData::Evaluate(const Query& q) const {
  std::vector<char> host_ok(host_names_.size(), q.hosts.empty() ? 1 : 0);
  for (const std::string& h : q.hosts) {
    auto it = std::find(host_names_.begin(), host_names_.end(), h);
    if (it != host_names_.end()) host_ok[static_cast<size_t>(it - host_names_.begin())] = 1;
  }
  std::vector<size_t> fields;
  for (const std::string& f : q.fields) fields.push_back(FieldIndex(f));
  const size_t usage_user = FieldIndex("usage_user");

  auto first = std::lower_bound(rows_.begin(), rows_.end(), q.start_ns,
                                [](const StoredRow& r, int64_t t) { return r.ts < t; });
  auto last = std::lower_bound(first, rows_.end(), q.end_ns,
                               [](const StoredRow& r, int64_t t) { return r.ts < t; });
  std::vector<ResultRow> out;

  switch (q.kind) {
    case QueryKind::kHighCpu:
      for (auto it = first; it != last; ++it) {
        if (!host_ok[static_cast<size_t>(it->host)]) continue;
        if (!(it->fields[usage_user] > q.threshold.value_or(0))) continue;
        ResultRow r;
        r.t_s = FloorSeconds(it->ts);
        r.group = host_names_[static_cast<size_t>(it->host)];
        for (size_t f : fields) r.values.emplace_back(it->fields[f]);
        out.push_back(std::move(r));
      }
      break;
    case QueryKind::kLastpoint: {
      std::vector<const StoredRow*> latest(host_names_.size(), nullptr);
      for (auto it = first; it != last; ++it) {
        if (host_ok[static_cast<size_t>(it->host)]) latest[static_cast<size_t>(it->host)] = &*it;
      }
      for (size_t h = 0; h < latest.size(); ++h) {
        if (!latest[h]) continue;
        ResultRow r;
        r.t_s = FloorSeconds(latest[h]->ts);
        r.group = host_names_[h];
        for (size_t f : fields) r.values.emplace_back(latest[h]->fields[f]);
        out.push_back(std::move(r));
      }
      break;
    }
    case QueryKind::kGroupBy:
    case QueryKind::kGroupByOrderByLimit: {
      // (bucket start, host or -1) → accumulator; ordered by bucket, then host.
      std::map<std::pair<int64_t, int32_t>, Accumulator> groups;
      for (auto it = first; it != last; ++it) {
        if (!host_ok[static_cast<size_t>(it->host)]) continue;
        const int64_t bucket = FloorDiv(it->ts, q.bucket_ns) * q.bucket_ns;
        Accumulator& a = groups[{bucket, q.group_by_host ? it->host : -1}];
        if (a.n == 0) {
          a.max.assign(fields.size(), 0);
          a.sum.assign(fields.size(), 0);
          for (size_t i = 0; i < fields.size(); ++i) a.max[i] = it->fields[fields[i]];
        }
        for (size_t i = 0; i < fields.size(); ++i) {
          const double v = it->fields[fields[i]];
          a.max[i] = std::max(a.max[i], v);
          a.sum[i] += v;
        }
        ++a.n;
      }
      for (const auto& [key, a] : groups) {
        ResultRow r;
        r.t_s = FloorSeconds(key.first);
        if (key.second >= 0) r.group = host_names_[static_cast<size_t>(key.second)];
        for (size_t i = 0; i < fields.size(); ++i) {
          r.values.emplace_back(q.agg == Agg::kAvg ? a.sum[i] / static_cast<double>(a.n)
                                                   : a.max[i]);
        }
        out.push_back(std::move(r));
      }
      if (q.limit) {
        // The `limit` latest buckets: rows are ordered by bucket, then group.
        std::stable_sort(out.begin(), out.end(),
                         [](const ResultRow& a, const ResultRow& b) { return a.t_s > b.t_s; });
        if (out.size() > static_cast<size_t>(*q.limit)) out.resize(static_cast<size_t>(*q.limit));
      }
      break;
    }
  }
  return out;
}

}  // namespace timestore::bench::tsbs
