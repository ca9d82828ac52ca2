// What the dataset definitions (api/open_data.cc), the public catalogue
// (api/open_data_public.cc) and applications (api/applications.cc) share about Open Data DK.
#pragma once

#include <optional>
#include <vector>

#include "api/context.h"
#include "store/open_data_store.h"

namespace bysans::api {

// Most devices a dataset may select by id.
inline constexpr size_t kMaxDatasetDevices = 10'000;

// kInvalidArgument unless the dataset's application or every selected device belongs to its
// organisation (the same message for another organisation's object and a missing one) and
// holds no personal data (Application::data_class is none).
Status CheckDatasetSelection(ApiContext& ctx, const OpenDataset& d);

// The devices a dataset covers now: its application's or its selected devices that still
// belong to the dataset's organisation and to an application without personal data. What the
// public side shows, whatever changed since the dataset was saved.
Result<std::vector<Device>> DatasetDevices(ApiContext& ctx, const OpenDataset& d);

// The published dataset the request's path names ({orgId}, {id}): one kNotFound when it does
// not exist, is not published or belongs to another organisation (api/open_data_public.cc; the
// public SensorThings root, api/sta.cc, serves it too).
Result<OpenDataset> LoadPublishedDataset(ApiContext& ctx, const http::Request& req);

// The first dataset of the application's organisation that covers the application or one of
// its devices (nullopt: none).
Result<std::optional<Id>> DatasetCovering(ApiContext& ctx, const Application& app);

}  // namespace bysans::api
