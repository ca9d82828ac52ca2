// The fixture of the behaviour tests of the smaller stores (dashboards, contacts, open data, CoAP
// credentials, LwM2M) that every backend must pass: MetaBackendTest (organisations, applications,
// devices on the same backend) plus each store, from the SQLite Store or, on PostgreSQL, opened on
// a pool of the test's database. The one home of these stores' shared behaviour; what only SQLite
// has (its migrations run again) stays in tests/unit/store/.
#pragma once

#include <memory>

#include "store/postgres/pg_coap_credential_store.h"
#include "store/postgres/pg_contact_store.h"
#include "store/postgres/pg_dashboard_store.h"
#include "store/postgres/pg_lwm2m_store.h"
#include "store/postgres/pg_open_data_store.h"
#include "store/postgres/pool.h"
#include "unit/store_postgres/meta_backend_fixture.h"

namespace bysans::testing {

class OrgStoresBackendTest : public MetaBackendTest {
 protected:
  void SetUp() override {
    MetaBackendTest::SetUp();
    if (HasFatalFailure() || !postgres()) return;
    pool_ = std::make_unique<pg::Pool>(url_, 2);
    dashboards_ = pg::NewPostgresDashboardStore(*pool_);
    contacts_ = pg::NewPostgresContactStore(*pool_);
    open_data_ = pg::NewPostgresOpenDataStore(*pool_);
    coap_ = pg::NewPostgresCoapCredentialStore(*pool_);
    lwm2m_ = pg::NewPostgresLwm2mStore(*pool_);
  }

  DashboardStore& dashboards() { return postgres() ? *dashboards_ : sqlite_->dashboards(); }
  ContactStore& contacts() { return postgres() ? *contacts_ : sqlite_->contacts(); }
  OpenDataStore& open_data() { return postgres() ? *open_data_ : sqlite_->open_data(); }
  CoapCredentialStore& coap() { return postgres() ? *coap_ : sqlite_->coap_credentials(); }
  Lwm2mStore& lwm2m() { return postgres() ? *lwm2m_ : sqlite_->lwm2m(); }

  // The stores go before the pool they use.
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<DashboardStore> dashboards_;
  std::unique_ptr<ContactStore> contacts_;
  std::unique_ptr<OpenDataStore> open_data_;
  std::unique_ptr<CoapCredentialStore> coap_;
  std::unique_ptr<Lwm2mStore> lwm2m_;
};

}  // namespace bysans::testing
