#pragma once
// Boost.Serialization glue shared by the jobboard (job stores) and, later, checkpoints (results).
// Binary archives without their header: the header costs about a microsecond per archive and
// flowkit versions its own records, so the archive's own version stamp would say nothing new.
// Standard containers (string, vector, map, pair) come serialisable; std::optional needs
// Boost 1.84's <boost/serialization/std_optional.hpp> or the user's own serialize().
// Binary archives are for one machine (one ABI, one endianness), which is the LMDB layer's scope.

#include <flowkit/core/store.hpp>
#include <flowkit/detail/type_name.hpp>

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_iarchive_impl.hpp>
#include <boost/archive/binary_oarchive.hpp>
// The input archive below is an archive class of flowkit's own: Boost's library holds the code of
// its own archives only, so the implementation is included and instantiated where it is used.
#include <boost/archive/impl/archive_serializer_map.ipp>
#include <boost/archive/impl/basic_binary_iarchive.ipp>
#include <boost/archive/impl/basic_binary_iprimitive.ipp>
#include <boost/serialization/array_optimization.hpp>
#include <boost/serialization/collection_size_type.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

#include <algorithm>
#include <cstddef>
#include <ios>
#include <istream>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>

namespace flowkit {

/// A store serialises as its values in slot order; the slot names are part of its type.
template <class Archive, class Names, class... Values>
void serialize(Archive& ar, store_t<Names, Values...>& s, const unsigned /*version*/) {
  std::apply([&ar](auto&... v) { ((ar & v), ...); }, s.values());
}

namespace detail {

// Appends to a caller-owned std::string, so a buffer reused across calls keeps its capacity.
class string_sink_buf final : public std::streambuf {
 public:
  explicit string_sink_buf(std::string& out) : out_(out) {}

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    out_.push_back(traits_type::to_char_type(ch));
    return ch;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_.append(s, static_cast<std::size_t>(n));
    return n;
  }

 private:
  std::string& out_;
};

// Reads a string_view in place: no copy of the archive bytes.
class view_source_buf final : public std::streambuf {
 public:
  explicit view_source_buf(std::string_view in) {
    // std::streambuf's get area is non-const by signature only; it is never written through.
    char* b = const_cast<char*>(in.data());
    setg(b, b, b + in.size());
  }
  // The bytes not read yet.
  std::size_t left() const noexcept { return static_cast<std::size_t>(egptr() - gptr()); }
};

inline constexpr unsigned archive_flags = boost::archive::no_header | boost::archive::no_codecvt;

// Boost's binary input archive, except that a length read from the bytes is checked against the
// bytes left before anything is allocated: a string cannot be longer, nor a collection hold more
// elements, than the bytes that remain. Boost's own archive resizes first, so a damaged length
// asks for up to 2^64 bytes (found by tests/fuzz/fuzz_job_store.cpp). Same format as
// binary_iarchive; elements that serialise to no bytes at all cannot be read more than `left`
// at a time, which no standard container of serialisable values does.
class bounded_iarchive
    : public boost::archive::binary_iarchive_impl<bounded_iarchive, char, std::char_traits<char>> {
  using base = boost::archive::binary_iarchive_impl<bounded_iarchive, char, std::char_traits<char>>;

 public:
  bounded_iarchive(view_source_buf& in, unsigned flags) : base(in, flags), in_(in) { init(flags); }

 private:
  friend class boost::archive::detail::interface_iarchive<bounded_iarchive>;
  friend class boost::archive::detail::common_iarchive<bounded_iarchive>;
  friend class boost::archive::basic_binary_iarchive<bounded_iarchive>;
  friend class boost::archive::basic_binary_iprimitive<bounded_iarchive, char, std::char_traits<char>>;
  friend class boost::archive::load_access;

  using base::load;
  void load(std::string& s) {
    std::size_t n = 0;
    this->load(n);
    check_length(n);
    s.resize(n);
    if (n > 0) this->load_binary(s.data(), n);
  }
  template <class T>
  void load_override(T& t) {
    base::load_override(t);
  }
  void load_override(boost::serialization::collection_size_type& t) {
    base::load_override(t);
    check_length(t);
  }
  void check_length(std::size_t n) const {
    if (n > in_.left())
      throw boost::archive::archive_exception(boost::archive::archive_exception::input_stream_error,
                                              "a length larger than the bytes left");
  }

  view_source_buf& in_;
};

}  // namespace detail
}  // namespace flowkit

// Like binary_iarchive, read arrays of bitwise-serialisable values (a std::vector<int>, say) as
// one block: binary_oarchive writes them so, and element by element the format differs.
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(flowkit::detail::bounded_iarchive)

namespace flowkit {

/// serialize_to(buf, value): replaces buf's contents with value's binary archive; buf keeps its
/// capacity, so a caller that reuses one buffer allocates only when a value outgrows it.
template <class T>
void serialize_to(std::string& out, const T& value) {
  out.clear();
  detail::string_sink_buf buf{out};
  boost::archive::binary_oarchive ar{buf, detail::archive_flags};
  ar << value;
}

/// deserialize_from(bytes, value) / deserialize_from<T>(bytes): the inverse. Throws
/// boost::archive::archive_exception (or std::ios_base::failure) on bytes that are not a T; a
/// length in the bytes larger than the bytes left is refused before anything is allocated.
template <class T>
void deserialize_from(std::string_view bytes, T& value) {
  detail::view_source_buf buf{bytes};
  detail::bounded_iarchive ar{buf, detail::archive_flags};
  ar >> value;
}

/// The same, returning a new T.
template <class T>
  requires std::is_default_constructible_v<T>
T deserialize_from(std::string_view bytes) {
  T value{};
  deserialize_from(bytes, value);
  return value;
}

/// A store type's signature: its slot names and value types, e.g. "order_id:i". Stored beside the
/// bytes so that reading them back as another store type is an error, not garbage. Type names
/// come from typeid, stable within one toolchain, which is the binary archive's scope anyway.
template <class Store>
std::string store_signature() {
  static_assert(is_store_v<Store>, "fk::store_signature<S>() requires S to be an fk::store_t");
  std::string sig;
  using names_t = typename Store::slot_names;
  using tuple_t = typename Store::value_types;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((sig.append(I == 0 ? "" : ",")
          .append(names_t::views[I])
          .append(":")
          .append(typeid(std::tuple_element_t<I, tuple_t>).name())),
     ...);
  }(std::make_index_sequence<Store::size>{});
  return sig;
}

/// A store signature for people: each type demangled, e.g. "order_id:int,who:std::string" for
/// "order_id:i,who:NSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE". For messages only: the
/// stored signature stays the compiler's spelling.
inline std::string readable_store_signature(std::string_view signature) {
  std::string out;
  while (!signature.empty()) {
    const std::size_t end = std::min(signature.find(','), signature.size());
    const std::string_view entry = signature.substr(0, end);
    const std::size_t colon = entry.rfind(':');
    if (colon == std::string_view::npos) {
      out.append(entry);
    } else {
      out.append(entry.substr(0, colon + 1));
      out.append(detail::readable_type_name(detail::demangle(std::string{entry.substr(colon + 1)}.c_str())));
    }
    if (end == signature.size()) break;
    out.append(",");
    signature.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace flowkit
