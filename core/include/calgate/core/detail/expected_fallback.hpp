#pragma once
// A minimal std::expected / std::unexpected for toolchains whose standard library leaves them out:
// clang 14 with libstdc++ 12 (its <expected> needs C++20 features clang 14 lacks). Only the fuzz
// builds use such a toolchain; GCC builds use the real std::expected. Covers what calgate uses:
// construction from a value or std::unexpected, has_value / bool / * / -> / value / value_or /
// error, and expected<void, E>.
#if !defined(__cpp_lib_expected)

#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace std {  // NOLINT: stands in for the standard's own names on this toolchain only

template <class E>
class unexpected {
 public:
  template <class G = E>
  constexpr explicit unexpected(G&& e) : error_(std::forward<G>(e)) {}
  constexpr const E& error() const& noexcept { return error_; }
  constexpr E& error() & noexcept { return error_; }
  constexpr E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};
template <class E>
unexpected(E) -> unexpected<E>;

template <class E>
class bad_expected_access : public std::exception {
 public:
  const char* what() const noexcept override { return "bad expected access"; }
};

template <class T, class E>
class expected {
 public:
  using value_type = T;
  using error_type = E;
  constexpr expected() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
  template <class U = T>
    requires(!std::is_same_v<std::remove_cvref_t<U>, expected> && std::is_constructible_v<T, U &&>)
  constexpr expected(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  template <class G>
  constexpr expected(const unexpected<G>& e) : v_(std::in_place_index<1>, e.error()) {}
  template <class G>
  constexpr expected(unexpected<G>&& e) : v_(std::in_place_index<1>, std::move(e).error()) {}

  constexpr bool has_value() const noexcept { return v_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr T& operator*() & { return std::get<0>(v_); }
  constexpr const T& operator*() const& { return std::get<0>(v_); }
  constexpr T&& operator*() && { return std::get<0>(std::move(v_)); }
  constexpr T* operator->() { return &std::get<0>(v_); }
  constexpr const T* operator->() const { return &std::get<0>(v_); }
  constexpr T& value() & {
    if (!has_value()) throw bad_expected_access<E>();
    return std::get<0>(v_);
  }
  constexpr const T& value() const& {
    if (!has_value()) throw bad_expected_access<E>();
    return std::get<0>(v_);
  }
  template <class U>
  constexpr T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }
  constexpr E& error() & { return std::get<1>(v_); }
  constexpr const E& error() const& { return std::get<1>(v_); }
  constexpr E&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;
  constexpr expected() noexcept : v_(std::in_place_index<0>) {}
  template <class G>
  constexpr expected(const unexpected<G>& e) : v_(std::in_place_index<1>, e.error()) {}
  template <class G>
  constexpr expected(unexpected<G>&& e) : v_(std::in_place_index<1>, std::move(e).error()) {}
  constexpr bool has_value() const noexcept { return v_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr void operator*() const noexcept {}
  constexpr void value() const {
    if (!has_value()) throw bad_expected_access<E>();
  }
  constexpr E& error() & { return std::get<1>(v_); }
  constexpr const E& error() const& { return std::get<1>(v_); }

 private:
  std::variant<std::monostate, E> v_;
};

}  // namespace std

#endif
