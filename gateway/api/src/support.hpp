#pragma once
// What every REST handler needs: error mapping to problem+json, owner scoping (another user's
// id answers exactly like an unknown one), and the JSON views of stored objects.

#include "calgate/accounts/account_store.hpp"
#include "calgate/api/routes.hpp"
#include "calgate/feeds/feed_store.hpp"
#include "calgate/http/json_input.hpp"
#include "calgate/policy/org_policy.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/failure_store.hpp"
#include "calgate/sync/skip_store.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace calgate::api {

using http::invalidField;
using http::ObjectReader;
using http::parseQuery;
using http::readJsonObject;
using http::Reply;

/// 404 not-found, the same for unknown ids and other users' ids.
http::Response notFound();
/// 409 limit-reached: the caller already holds `limit` `what` (e.g. "pairs"), the `key` of limits:.
http::Response limitReached(std::string_view what, unsigned limit, std::string_view key);
/// How many items a listing holds (or its error).
template <class Items>
core::Result<std::size_t> countOf(const core::Result<Items>& items) {
  if (!items) return std::unexpected(items.error());
  return items->size();
}
/// What the caller holds (`held`, or the error reading it) against `limit`: the answer refusing
/// one more (409 limit-reached, or the failure), or nothing when one more may be added.
std::optional<http::Response> overLimit(const core::Result<std::size_t>& held, unsigned limit, std::string_view what,
                                        std::string_view key, const http::Request& request);
/// A store or provider failure: 503 unavailable (database/provider down), 404, 409 conflict, or 500
/// internal (logged under the request id; the body says nothing more).
http::Response failure(const core::Error& error, const http::Request& request);
/// 503 while the vault is closed (schema not current).
Reply<void> requireVault(const Services& services);
const std::string& callerId(const http::Request& request);

Reply<accounts::Account> ownedAccount(Services& services, const http::Request& request, const std::string& accountId);
Reply<sync::SyncPair> ownedPair(Services& services, const http::Request& request, const std::string& pairId);
/// A calendar id from a request body: 422 unknown-calendar unless it is one of the caller's.
Reply<sync::CalendarRef> ownedCalendar(Services& services, const http::Request& request, std::string_view field,
                                       const std::string& calendarId);

/// Appends an audit entry for what the caller did (actor and user: the caller). A failure to
/// record is logged under the request id; the request it describes has already succeeded.
void auditCaller(Services& services, const http::Request& request, std::string action, std::string objectRef,
                 std::string decision, std::map<std::string, std::string> facts = {},
                 std::vector<std::string> reasons = {});

/// Stops the push channels on `calendars` at their providers (within the outbound budget) and
/// forgets them: before an account or a user goes with the credentials that could stop them.
core::Result<void> stopChannels(Services& services, const std::vector<sync::CalendarRef>& calendars);

nlohmann::json accountJson(const accounts::Account& account);
nlohmann::json calendarJson(const sync::CalendarRef& calendar);
nlohmann::json feedJson(const feeds::Feed& feed);
nlohmann::json rulesJson(const policy::PairRules& rules);
nlohmann::json pairJson(const sync::SyncPair& pair);
inline constexpr std::size_t kStatusSkippedItems = 20;
/// Skipped resources as the status and the export list them.
nlohmann::json skippedJson(const std::vector<sync::SkippedEntry>& entries);
/// Failing events (a target refused their copy) as the status and the preview list them.
nlohmann::json failingJson(const std::vector<sync::FailingEvent>& events);
/// Status: state, last run, counts of mappings by state, the source resources it cannot take (the
/// kStatusSkippedItems most recently seen, and how many), the pair's job.
core::Result<nlohmann::json> statusJson(Services& services, const sync::SyncPair& pair);
std::string pairState(const sync::SyncPair& pair);

/// secure | insecure | bogus | indeterminate | no_record
std::string_view validationName(policy::Validation v);

/// The value of the cookie `name` in the request's Cookie header ("a=1; name=x"), or "" (also for a
/// header over 16 KiB).
std::string cookieValue(const http::Request& request, std::string_view name);
/// A Set-Cookie value: HttpOnly, SameSite=Lax, `path`, Max-Age `maxAge` (0 removes it), and
/// Secure when the public URL is https.
std::string setCookie(const Services& services, std::string_view name, std::string_view value, std::string_view path,
                      long long maxAge);
/// The portal session cookie's name: "__Host-calgate_session" behind https (the browser then
/// insists on Secure, Path=/ and no Domain), "calgate_session" on plain http (development).
std::string sessionCookieName(const Services& services);
/// A cookie binding an OAuth sign-in to the browser that started it (`base`: calgate_oauth,
/// calgate_signin). Behind https "__Host-<base>" with Path=/, so that a sibling subdomain or a
/// plain-http answer cannot plant one (login CSRF); on plain http `base` with Path=/oauth.
struct CookieName {
  std::string name;
  std::string path;
};
CookieName bindingCookie(const Services& services, std::string_view base);

/// A small HTML page of the browser journeys (sign-in links, OAuth callbacks): a title and a
/// message, optionally a form posting to `action` with one button labelled `button`, optionally a
/// link. Everything is escaped; the CSP allows nothing but the form's target (`formAction`, a CSP
/// source list: a form whose answer redirects to a provider needs the provider's origin too).
struct HtmlPage {
  std::string title;
  std::string message;
  std::string action{};
  std::string button{};
  std::string formAction = "'self'";
  std::string link{};
  std::string linkText{};
};
http::Response htmlPage(int status, const HtmlPage& page);

http::Response jsonResponse(int status, const nlohmann::json& body);
http::Response noContent();

}  // namespace calgate::api
