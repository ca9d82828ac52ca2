// Dashboards a user composes and saves (issue 21 §4): a name, the least role that may see the
// dashboard and a layout of widgets as JSON text. Same contracts as store.h: thread-safe,
// Status errors, store-assigned ids. The store keeps the layout it is given; the API validates
// it (api/dashboard_layout.h) and checks that every device and application it names belongs to
// `org_id` before it stores one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans {

struct Dashboard {
  Id id = 0;
  Id org_id = 0;
  std::string name;
  Role min_role = Role::kViewer;  // callers with a lesser role neither list nor read it
  std::string layout;             // {"widgets": [...]} (api/dashboard_layout.h)
  // Shared with one application (issue 21 §4): then every device the layout names is of that
  // application and members restricted to it may read the dashboard. nullopt = the organisation.
  // The dashboard goes with the application.
  std::optional<Id> app_id;
  // Public (issue 21 §4, migration 33): readable without login at /api/v1/public/dashboards/{id},
  // limited to what published open datasets of the organisation cover (api/dashboard_public.h).
  bool published = false;
  TimeMs created_ms = 0;
  TimeMs updated_ms = 0;
};

class DashboardStore {
 public:
  virtual ~DashboardStore() = default;

  // Assigns the id. kNotFound when the organisation does not exist.
  virtual Result<Dashboard> CreateDashboard(Dashboard d) = 0;
  // kNotFound for an unknown id.
  virtual Result<Dashboard> GetDashboard(Id id) = 0;
  // The organisation's dashboards whose min_role is at most `role`, by name then id.
  virtual Result<std::vector<Dashboard>> ListDashboards(Id org_id, Role role) = 0;
  // Replaces name, min_role, layout, app_id, published and updated_ms. kNotFound for an unknown id.
  virtual Status UpdateDashboard(const Dashboard& d) = 0;
  // kNotFound for an unknown id.
  virtual Status DeleteDashboard(Id id) = 0;
};

}  // namespace bysans
