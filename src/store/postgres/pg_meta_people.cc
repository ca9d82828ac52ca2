// PostgreSQL MetaStore: users, memberships (with the applications a membership is restricted
// to) and invitations (with theirs). Emails are stored lower-case and unique without regard to
// case (the unique indexes are on lower(email)).
#include <algorithm>

#include "store/postgres/pg_meta_impl.h"
#include "store/postgres/sql_text.h"

namespace bysans::pg {
namespace {

constexpr char kUserCols[] = "id, email, name, password_hash, global_admin, created_ms";

User UserRow(const pqxx::row& r) {
  return {r[0].as<Id>(),          r[1].as<std::string>(), r[2].as<std::string>(),
          r[3].as<std::string>(), r[4].as<bool>(),        r[5].as<TimeMs>()};
}

// A membership's columns with its applications as "3,7" (in id order).
constexpr char kMemberSelect[] =
    "SELECT m.user_id, m.org_id, m.role, m.app_scoped, array_to_string(ARRAY(SELECT a.app_id "
    "FROM membership_apps a WHERE a.user_id = m.user_id AND a.org_id = m.org_id "
    "ORDER BY a.app_id), ',') FROM memberships m ";

Membership MemberRow(const pqxx::row& r) {
  Membership m{r[0].as<Id>(), r[1].as<Id>(), RoleFromCode(r[2].as<int64_t>())};
  m.app_scoped = r[3].as<bool>();
  m.app_ids = ParseIdList(r[4].as<std::string>());
  return m;
}

constexpr char kInvitationSelect[] =
    "SELECT i.id, i.org_id, i.email, i.role, i.invited_by, i.created_ms, i.expires_ms, "
    "i.app_scoped, array_to_string(ARRAY(SELECT a.app_id FROM invitation_apps a "
    "WHERE a.invitation_id = i.id ORDER BY a.app_id), ',') FROM invitations i ";

Invitation InvitationRow(const pqxx::row& r) {
  Invitation i{
      r[0].as<Id>(), r[1].as<Id>(),     r[2].as<std::string>(), RoleFromCode(r[3].as<int64_t>()),
      r[4].as<Id>(), r[5].as<TimeMs>(), r[6].as<TimeMs>()};
  i.app_scoped = r[7].as<bool>();
  i.app_ids = ParseIdList(r[8].as<std::string>());
  return i;
}

std::string Ids(const std::vector<Id>& ids) {
  return IntArray(std::vector<int64_t>(ids.begin(), ids.end()));
}

}  // namespace

// ---- users

Result<User> MetaPg::CreateUser(User u) {
  u.email = AsciiLower(u.email);
  if (u.created_ms == 0) u.created_ms = clock_.NowMs();
  return Single<Result<User>>("create user", [&](pqxx::transaction_base& w) {
    u.id = w.exec_params(
                "INSERT INTO users (email, name, password_hash, global_admin, "
                "created_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                u.email, u.name, u.password_hash, u.global_admin, u.created_ms)[0][0]
               .as<Id>();
    return Result<User>(u);
  });
}

Result<User> MetaPg::GetUser(Id id) {
  return Single<Result<User>>("get user", [&](pqxx::transaction_base& w) {
    return QueryOne<User>(w, std::string("SELECT ") + kUserCols + " FROM users WHERE id = $1",
                          UserRow, "user", id);
  });
}

Result<User> MetaPg::FindUserByEmail(const std::string& email) {
  return Single<Result<User>>("find user by email", [&](pqxx::transaction_base& w) {
    return QueryOne<User>(
        w, std::string("SELECT ") + kUserCols + " FROM users WHERE lower(email) = lower($1)",
        UserRow, "user", email);
  });
}

Result<Paged<User>> MetaPg::ListUsers(Page page) {
  return Snapshot<Result<Paged<User>>>("list users", [&](pqxx::transaction_base& w) {
    return Result<Paged<User>>(QueryPage<User>(w, kUserCols, "FROM users", "id", page, UserRow));
  });
}

Result<Paged<User>> MetaPg::ListUsersOfOrganization(Id org_id, Page page) {
  return Snapshot<Result<Paged<User>>>(
      "list users of organisation", [&](pqxx::transaction_base& w) {
        return Result<Paged<User>>(QueryPage<User>(
            w, kUserCols,
            "FROM users WHERE id IN (SELECT user_id FROM memberships WHERE org_id = $1)", "id",
            page, UserRow, org_id));
      });
}

Status MetaPg::UpdateUser(const User& u) {
  return Single<Status>("update user", [&](pqxx::transaction_base& w) {
    return ChangedOne(
        w.exec_params("UPDATE users SET email = $1, name = $2, password_hash = $3, "
                      "global_admin = $4 WHERE id = $5",
                      AsciiLower(u.email), u.name, u.password_hash, u.global_admin, u.id),
        "user");
  });
}

Status MetaPg::DeleteUser(Id id) {
  return Single<Status>("delete user", [&](pqxx::transaction_base& w) {
    return ChangedOne(w.exec_params("DELETE FROM users WHERE id = $1", id), "user");
  });
}

// ---- memberships

// Two PutMemberships of one (user, organisation) at once: the second waits on the first's row
// lock of the upsert and then replaces its applications (the last one wins, whole).
Status MetaPg::PutMembership(const Membership& m) {
  return Tx<Status>("put membership", [&](pqxx::work& w) {
    w.exec_params(
        "INSERT INTO memberships (user_id, org_id, role, app_scoped) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, org_id) DO UPDATE SET "
        "role = excluded.role, app_scoped = excluded.app_scoped",
        m.user_id, m.org_id, RoleCode(m.role), m.app_scoped);
    w.exec_params("DELETE FROM membership_apps WHERE user_id = $1 AND org_id = $2", m.user_id,
                  m.org_id);
    // Only applications of the organisation.
    if (m.app_scoped)
      w.exec_params(
          "INSERT INTO membership_apps (user_id, org_id, app_id) SELECT $1, $2, id "
          "FROM applications WHERE org_id = $2 AND id = ANY ($3::bigint[])",
          m.user_id, m.org_id, Ids(m.app_ids));
    return Status::Ok();
  });
}

Result<Membership> MetaPg::GetMembership(Id user_id, Id org_id) {
  return Single<Result<Membership>>("get membership", [&](pqxx::transaction_base& w) {
    return QueryOne<Membership>(w,
                                std::string(kMemberSelect) +
                                    "WHERE m.user_id = $1 AND "
                                    "m.org_id = $2",
                                MemberRow, "membership", user_id, org_id);
  });
}

Result<std::vector<Membership>> MetaPg::ListMembershipsOfUser(Id user_id) {
  return Single<Result<std::vector<Membership>>>(
      "list memberships of user", [&](pqxx::transaction_base& w) {
        return Result<std::vector<Membership>>(QueryAll<Membership>(
            w, std::string(kMemberSelect) + "WHERE m.user_id = $1 ORDER BY m.org_id", MemberRow,
            user_id));
      });
}

Result<std::vector<Membership>> MetaPg::ListMembershipsOfOrganization(Id org_id) {
  return Single<Result<std::vector<Membership>>>(
      "list memberships of organisation", [&](pqxx::transaction_base& w) {
        return Result<std::vector<Membership>>(QueryAll<Membership>(
            w, std::string(kMemberSelect) + "WHERE m.org_id = $1 ORDER BY m.user_id", MemberRow,
            org_id));
      });
}

Status MetaPg::DeleteMembership(Id user_id, Id org_id) {
  return Single<Status>("delete membership", [&](pqxx::transaction_base& w) {
    return ChangedOne(w.exec_params("DELETE FROM memberships WHERE user_id = $1 AND org_id = $2",
                                    user_id, org_id),
                      "membership");
  });
}

// ---- invitations

// One statement finds or makes the (organisation, email) row: two invitations of one address at
// once end in one row, the last one's values.
Result<Invitation> MetaPg::PutInvitation(Invitation inv) {
  inv.email = AsciiLower(inv.email);
  return Tx<Result<Invitation>>("put invitation", [&](pqxx::work& w) {
    inv.id = w.exec_params(
                  "INSERT INTO invitations (org_id, email, role, invited_by, created_ms, "
                  "expires_ms, app_scoped) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                  "ON CONFLICT (org_id, lower(email)) DO UPDATE SET "
                  "role = excluded.role, invited_by = excluded.invited_by, "
                  "created_ms = excluded.created_ms, expires_ms = excluded.expires_ms, "
                  "app_scoped = excluded.app_scoped RETURNING id",
                  inv.org_id, inv.email, RoleCode(inv.role), inv.invited_by, inv.created_ms,
                  inv.expires_ms, inv.app_scoped)[0][0]
                 .as<Id>();
    // Inviting the address again replaces the applications too; only the organisation's.
    w.exec_params("DELETE FROM invitation_apps WHERE invitation_id = $1", inv.id);
    std::vector<Id> kept;
    if (inv.app_scoped)
      for (const auto& r :
           w.exec_params("INSERT INTO invitation_apps (invitation_id, app_id) SELECT $1, id "
                         "FROM applications WHERE org_id = $2 AND id = ANY ($3::bigint[]) "
                         "RETURNING app_id",
                         inv.id, inv.org_id, Ids(inv.app_ids)))
        kept.push_back(r[0].as<Id>());
    std::sort(kept.begin(), kept.end());
    inv.app_ids = kept;
    return Result<Invitation>(inv);
  });
}

Result<Invitation> MetaPg::GetInvitation(Id id) {
  return Single<Result<Invitation>>("get invitation", [&](pqxx::transaction_base& w) {
    return QueryOne<Invitation>(w, std::string(kInvitationSelect) + "WHERE i.id = $1",
                                InvitationRow, "invitation", id);
  });
}

Result<std::vector<Invitation>> MetaPg::ListInvitationsOfOrganization(Id org_id) {
  return Single<Result<std::vector<Invitation>>>(
      "list invitations of organisation", [&](pqxx::transaction_base& w) {
        return Result<std::vector<Invitation>>(QueryAll<Invitation>(
            w, std::string(kInvitationSelect) + "WHERE i.org_id = $1 ORDER BY i.id", InvitationRow,
            org_id));
      });
}

Result<std::vector<Invitation>> MetaPg::ListInvitationsOfEmail(const std::string& email) {
  return Single<Result<std::vector<Invitation>>>(
      "list invitations of email", [&](pqxx::transaction_base& w) {
        return Result<std::vector<Invitation>>(QueryAll<Invitation>(
            w, std::string(kInvitationSelect) + "WHERE lower(i.email) = lower($1) ORDER BY i.id",
            InvitationRow, email));
      });
}

Status MetaPg::DeleteInvitation(Id id) {
  return Single<Status>("delete invitation", [&](pqxx::transaction_base& w) {
    return ChangedOne(w.exec_params("DELETE FROM invitations WHERE id = $1", id), "invitation");
  });
}

// The invitation's row is locked first: a second acceptance at the same moment waits, then finds
// it gone (kNotFound), so an invitation makes one membership once.
Status MetaPg::AcceptInvitation(Id invitation_id, Id user_id) {
  return Tx<Status>("accept invitation", [&](pqxx::work& w) -> Status {
    const pqxx::result inv = w.exec_params(
        "SELECT org_id, role, app_scoped FROM invitations WHERE id = $1 FOR UPDATE", invitation_id);
    if (inv.empty()) return NotFound("invitation not found");
    const Id org_id = inv[0][0].as<Id>();
    w.exec_params(
        "INSERT INTO memberships (user_id, org_id, role, app_scoped) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, org_id) DO UPDATE SET "
        "role = excluded.role, app_scoped = excluded.app_scoped",
        user_id, org_id, inv[0][1].as<int64_t>(), inv[0][2].as<bool>());
    w.exec_params("DELETE FROM membership_apps WHERE user_id = $1 AND org_id = $2", user_id,
                  org_id);
    w.exec_params(
        "INSERT INTO membership_apps (user_id, org_id, app_id) SELECT $1, $2, app_id "
        "FROM invitation_apps WHERE invitation_id = $3",
        user_id, org_id, invitation_id);
    w.exec_params("DELETE FROM invitations WHERE id = $1", invitation_id);
    return Status::Ok();
  });
}

}  // namespace bysans::pg
