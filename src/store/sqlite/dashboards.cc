// DashboardStore on SQLite (migration 27; app_id from 31, published from 33): one row per
// dashboard, the layout as JSON text; rows cascade with their organisation, and with their
// application when shared with one.
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

constexpr const char* kSelect =
    "SELECT id, org_id, name, min_role, layout, created_ms, updated_ms, app_id, published FROM "
    "dashboards ";

Dashboard DashboardFromRow(const Stmt& st) {
  Dashboard d;
  d.id = st.Int(0);
  d.org_id = st.Int(1);
  d.name = st.Text(2);
  d.min_role = RoleFromCode(st.Int(3));
  d.layout = st.Text(4);
  d.created_ms = st.Int(5);
  d.updated_ms = st.Int(6);
  if (!st.IsNull(7)) d.app_id = st.Int(7);
  d.published = st.Int(8) != 0;
  return d;
}

Status NoDashboard(Id id) { return NotFound("no dashboard with id " + std::to_string(id)); }

class SqliteDashboardStore final : public DashboardStore {
 public:
  explicit SqliteDashboardStore(Pool& pool) : pool_(pool) {}

  Result<Dashboard> CreateDashboard(Dashboard d) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    {
      BYSANS_ASSIGN_OR_RETURN(auto org, db->Prepare("SELECT 1 FROM organizations WHERE id=?"));
      org->Bind(1, d.org_id);
      if (!org->Step()) {
        BYSANS_RETURN_IF_ERROR(org->status());
        return NotFound("no organization with id " + std::to_string(d.org_id));
      }
    }
    BYSANS_ASSIGN_OR_RETURN(
        auto st, db->Prepare("INSERT INTO dashboards(org_id, name, min_role, layout, created_ms, "
                             "updated_ms, app_id, published) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
    st->Bind(1, d.org_id).Bind(2, d.name).Bind(3, RoleCode(d.min_role)).Bind(4, d.layout);
    st->Bind(5, d.created_ms).Bind(6, d.updated_ms);
    if (d.app_id)
      st->Bind(7, *d.app_id);
    else
      st->BindNull(7);
    st->Bind(8, d.published);
    BYSANS_RETURN_IF_ERROR(st->Run());
    d.id = db->LastInsertId();
    return d;
  }

  Result<Dashboard> GetDashboard(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare(std::string(kSelect) + "WHERE id=?"));
    st->Bind(1, id);
    if (!st->Step()) {
      BYSANS_RETURN_IF_ERROR(st->status());
      return NoDashboard(id);
    }
    return DashboardFromRow(*st);
  }

  Result<std::vector<Dashboard>> ListDashboards(Id org_id, Role role) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st,
                            db->Prepare(std::string(kSelect) + "WHERE org_id=? ORDER BY name, id"));
    st->Bind(1, org_id);
    // Role codes are not in the roles' order (operator came last): compared as roles.
    std::vector<Dashboard> out;
    while (st->Step()) {
      Dashboard d = DashboardFromRow(*st);
      if (static_cast<int>(d.min_role) <= static_cast<int>(role)) out.push_back(std::move(d));
    }
    BYSANS_RETURN_IF_ERROR(st->status());
    return out;
  }

  Status UpdateDashboard(const Dashboard& d) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto st,
        db->Prepare("UPDATE dashboards SET name=?, min_role=?, layout=?, updated_ms=?, app_id=?, "
                    "published=? WHERE id=?"));
    st->Bind(1, d.name).Bind(2, RoleCode(d.min_role)).Bind(3, d.layout).Bind(4, d.updated_ms);
    if (d.app_id)
      st->Bind(5, *d.app_id);
    else
      st->BindNull(5);
    st->Bind(6, d.published);
    BYSANS_RETURN_IF_ERROR(st->Bind(7, d.id).Run());
    if (db->Changes() == 0) return NoDashboard(d.id);
    return Status::Ok();
  }

  Status DeleteDashboard(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto st, db->Prepare("DELETE FROM dashboards WHERE id=?"));
    BYSANS_RETURN_IF_ERROR(st->Bind(1, id).Run());
    if (db->Changes() == 0) return NoDashboard(id);
    return Status::Ok();
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<DashboardStore> NewSqliteDashboardStore(Pool& pool) {
  return std::make_unique<SqliteDashboardStore>(pool);
}

}  // namespace bysans::sqlite
