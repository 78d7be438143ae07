// The /admin routes of API tokens: create (the token is in this answer and
// nowhere else, ever), list (without secrets) and revoke.
//
//   POST   /admin/tokens          {"name", "scopes", "datasets", "expiresAt"|"expiresIn",
//                                  "rateLimits"} -> 201 {"token": "tsk_...", ...}
//   GET    /admin/tokens          -> {"tokens": [...]}
//   DELETE /admin/tokens/{id}     -> {"revoked": {...}}   (id or name)
//
// Audited synchronously as token.create and token.revoke, with the token's
// settings and never its secret.
#include "api/admin_call.h"
#include "api/route_helpers.h"
#include "auth/token_store.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace timestore::api {
namespace {

HttpResponse NoTokenStore() {
  return Error(409, "auth_unavailable",
               "this server has no token store (it was started without one)");
}

}  // namespace

void Service::AdminCreateToken(AdminCall& call) {
  auth::TokenStore* store = options_.authenticator ? options_.authenticator->tokens() : nullptr;
  if (store == nullptr) return call.respond(NoTokenStore());
  const int64_t now = NowNanos();
  auto spec = auth::ParseTokenRequest(call.req.body, now);
  if (!spec.ok()) return call.respond(StatusToResponse(spec.status()));
  auto created = store->Create(*std::move(spec), now);
  if (!created.ok()) return call.respond(StatusToResponse(created.status()));
  const auto& [info, secret] = *created;
  AuditEvent e;
  e.actor = call.actor;
  e.action = "token.create";
  e.before = "null";
  e.after = auth::TokenInfoJson(info, now);
  RecordAudit(call.engine, std::move(e), /*sync=*/true);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("token").String(secret);
  w.Key("info").Raw(auth::TokenInfoJson(info, now));
  w.Key("note").String("the token is shown only now: store it; the server keeps only its hash");
  w.EndObject();
  HttpResponse r = Json(201, std::move(out));
  r.headers.emplace_back("Cache-Control", "no-store");
  call.respond(std::move(r));
}

void Service::AdminListTokens(AdminCall& call) {
  auth::TokenStore* store = options_.authenticator ? options_.authenticator->tokens() : nullptr;
  if (store == nullptr) return call.respond(NoTokenStore());
  const int64_t now = NowNanos();
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("tokens").BeginArray();
  for (const auth::TokenInfo& t : store->List()) w.Raw(auth::TokenInfoJson(t, now));
  w.EndArray().EndObject();
  call.respond(Json(200, std::move(out)));
}

void Service::AdminRevokeToken(AdminCall& call) {
  auth::TokenStore* store = options_.authenticator ? options_.authenticator->tokens() : nullptr;
  if (store == nullptr) return call.respond(NoTokenStore());
  auto revoked = store->Revoke(call.target_id);
  if (!revoked.ok()) return call.respond(StatusToResponse(revoked.status()));
  const int64_t now = NowNanos();
  AuditEvent e;
  e.actor = call.actor;
  e.action = "token.revoke";
  e.before = auth::TokenInfoJson(*revoked, now);
  e.after = "null";
  RecordAudit(call.engine, std::move(e), /*sync=*/true);
  call.respond(Json(200, StrCat("{\"revoked\":", auth::TokenInfoJson(*revoked, now), "}")));
}

}  // namespace timestore::api
