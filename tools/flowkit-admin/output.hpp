#pragma once
// How flowkit-admin writes what it finds: times (ISO 8601 in JSON, readable in tables, both UTC)
// and aligned tables for people.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <ctime>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowkit::admin {

// The parts, appended: GCC 12 at -O2 reports a false -Werror=restrict inside
// `"literal" + std::string`, so strings are built this way.
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::string s;
  (s.append(std::string_view{parts}), ...);
  return s;
}

using time_point = std::chrono::system_clock::time_point;  // job_time and run_time alike

namespace detail {

struct utc_parts {
  std::tm tm{};
  long long millis = 0;
};

inline utc_parts split_utc(time_point t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const long long seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);  // floor, also before 1970
  const std::time_t tt = static_cast<std::time_t>(seconds);
  utc_parts p;
  ::gmtime_r(&tt, &p.tm);
  p.millis = ms - seconds * 1000;
  return p;
}

inline std::string format_tm(const char* format, const std::tm& tm) {
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

}  // namespace detail

// "2026-11-30T22:49:23.123Z": what --json writes.
inline std::string iso_time(time_point t) {
  const detail::utc_parts p = detail::split_utc(t);
  std::string s = detail::format_tm("%Y-%m-%dT%H:%M:%S", p.tm);
  const std::string ms = std::to_string(1000 + p.millis);  // "1123": the last three digits, padded
  s += '.';
  s.append(ms, 1, 3);
  s += 'Z';
  return s;
}

// "2026-11-30 22:49:23Z": what tables show.
inline std::string readable_time(time_point t) {
  return detail::format_tm("%Y-%m-%d %H:%M:%SZ", detail::split_utc(t).tm);
}

// A duration for people, two units at most: "45s", "3m 12s", "2h 5m", "4d 1h".
inline std::string readable_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  const long long s = duration_cast<seconds>(d).count();
  const auto two = [](long long big, const char* big_unit, long long small, const char* small_unit) {
    return small == 0 ? concat(std::to_string(big), big_unit)
                      : concat(std::to_string(big), big_unit, " ", std::to_string(small), small_unit);
  };
  if (s < 60) return concat(std::to_string(s), "s");
  if (s < 3600) return two(s / 60, "m", s % 60, "s");
  if (s < 86400) return two(s / 3600, "h", s % 3600 / 60, "m");
  return two(s / 86400, "d", s % 86400 / 3600, "h");
}

// t seen from now: "in 29s", "3m 12s ago".
inline std::string relative_time(time_point t, time_point now) {
  return t >= now ? concat("in ", readable_duration(t - now)) : concat(readable_duration(now - t), " ago");
}

// "2026-11-30 22:49:53Z (in 29s)".
inline std::string readable_time(time_point t, time_point now) {
  return concat(readable_time(t), " (", relative_time(t, now), ")");
}

// Columns aligned by their widest cell, two spaces apart; the last column is not padded.
class table {
 public:
  explicit table(std::vector<std::string> headers) : rows_{std::move(headers)} {}

  void add(std::vector<std::string> row) {
    row.resize(rows_.front().size());
    rows_.push_back(std::move(row));
  }
  bool empty() const noexcept { return rows_.size() == 1; }

  void print(std::ostream& out) const {
    std::vector<std::size_t> width(rows_.front().size(), 0);
    for (const auto& row : rows_)
      for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], columns(row[c]));
    for (const auto& row : rows_) {
      std::string line;
      for (std::size_t c = 0; c < row.size(); ++c) {
        line += row[c];
        if (c + 1 < row.size()) line.append(width[c] - columns(row[c]) + 2, ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << '\n';
    }
  }

 private:
  // Characters, not bytes: names may be UTF-8 (continuation bytes take no column).
  static std::size_t columns(std::string_view s) {
    std::size_t n = 0;
    for (const char ch : s)
      if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;
    return n;
  }

  std::vector<std::vector<std::string>> rows_;
};

// "name   value" lines, names aligned: what `show` commands print above their tables.
class fields {
 public:
  void add(std::string name, std::string value) { rows_.emplace_back(std::move(name), std::move(value)); }

  void print(std::ostream& out) const {
    std::size_t width = 0;
    for (const auto& [name, value] : rows_) width = std::max(width, name.size());
    for (const auto& [name, value] : rows_)
      out << name << std::string(width - name.size() + 2, ' ') << value << '\n';
  }

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
};

}  // namespace flowkit::admin
