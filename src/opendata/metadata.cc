#include "opendata/metadata.h"

#include <algorithm>
#include <array>
#include <string>

namespace bysans::opendata {
namespace {

constexpr size_t kMaxText = 200;
constexpr size_t kMaxDescription = 10'000;
constexpr size_t kMaxUrl = 2'000;
constexpr size_t kMaxItems = 50;

constexpr std::array<std::string_view, 14> kThemes = {"AGRI", "ECON", "EDUC", "ENER", "ENVI",
                                                      "GOVE", "HEAL", "INTR", "JUST", "OP_DATPRO",
                                                      "REGI", "SOCI", "TECH", "TRAN"};

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

bool IsHttpUrl(std::string_view s) {
  auto rest = [&](std::string_view scheme) {
    return s.substr(0, scheme.size()) == scheme && s.size() > scheme.size();
  };
  return (rest("http://") || rest("https://")) && s.size() <= kMaxUrl &&
         s.find_first_of(" \"<>\\`{}|^") == std::string_view::npos && !HasControl(s);
}

Status Text(std::string_view field, std::string_view v, size_t max, bool required) {
  if (required && v.empty())
    return InvalidArgument("field '" + std::string(field) + "' is required");
  if (v.size() > max) {
    return InvalidArgument("field '" + std::string(field) + "' is longer than " +
                           std::to_string(max) + " characters");
  }
  return Status::Ok();
}

Status List(std::string_view field, const std::vector<std::string>& items) {
  if (items.size() > kMaxItems) {
    return InvalidArgument("field '" + std::string(field) + "' has more than " +
                           std::to_string(kMaxItems) + " items");
  }
  for (const std::string& s : items) {
    if (s.empty() || s.size() > kMaxText || HasControl(s)) {
      return InvalidArgument("field '" + std::string(field) +
                             "' must hold non-empty texts of at most " + std::to_string(kMaxText) +
                             " characters");
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsThemeCode(std::string_view code) {
  return std::find(kThemes.begin(), kThemes.end(), code) != kThemes.end();
}

bool IsAccrualPeriodicity(std::string_view s) {
  if (s == "irregular") return true;
  if (s.size() < 5 || s.size() > 20 || s.substr(0, 3) != "R/P") return false;
  std::string_view rest = s.substr(3);
  bool time = false, digits = false;
  for (size_t i = 0; i < rest.size(); ++i) {
    char c = rest[i];
    if (c == 'T') {
      if (time || i + 1 == rest.size() || digits) return false;
      time = true;
    } else if ((c >= '0' && c <= '9') || c == '.') {
      digits = true;
    } else if (std::string_view(time ? "HMS" : "YMWD").find(c) != std::string_view::npos) {
      if (!digits) return false;
      digits = false;
    } else {
      return false;
    }
  }
  return !digits && rest.back() != 'T';
}

Status ValidateMetadata(const OpenDataset& d) {
  BYSANS_RETURN_IF_ERROR(Text("title", d.title, kMaxText, true));
  BYSANS_RETURN_IF_ERROR(Text("description", d.description, kMaxDescription, false));
  BYSANS_RETURN_IF_ERROR(List("keywords", d.keywords));
  BYSANS_RETURN_IF_ERROR(List("keys", d.keys));
  if (d.themes.size() > kMaxItems) return InvalidArgument("field 'themes' has too many items");
  for (const std::string& t : d.themes) {
    if (!IsThemeCode(t)) {
      return InvalidArgument("field 'themes': '" + t.substr(0, kMaxText) +
                             "' is not an EU data-theme code (AGRI, ECON, EDUC, ENER, ENVI, GOVE, "
                             "HEAL, INTR, JUST, OP_DATPRO, REGI, SOCI, TECH, TRAN)");
    }
  }
  if (!IsHttpUrl(d.license)) {
    return InvalidArgument("field 'license' must be an http(s) URL of the licence");
  }
  if (!IsAccrualPeriodicity(d.accrual_periodicity)) {
    return InvalidArgument(
        "field 'accrualPeriodicity' must be 'irregular' or an ISO 8601 repeating duration such "
        "as 'R/PT1H' or 'R/P1D'");
  }
  BYSANS_RETURN_IF_ERROR(Text("contactName", d.contact_name, kMaxText, true));
  BYSANS_RETURN_IF_ERROR(Text("contactEmail", d.contact_email, kMaxText, true));
  if (d.contact_email.find('@') == std::string::npos || HasControl(d.contact_email) ||
      d.contact_email.find_first_of(" <>\"") != std::string::npos) {
    return InvalidArgument("field 'contactEmail' must be an e-mail address");
  }
  if (!d.documentation_url.empty() && !IsHttpUrl(d.documentation_url)) {
    return InvalidArgument("field 'documentationUrl' must be an http(s) URL");
  }
  return Text("spatial", d.spatial, kMaxText, false);
}

}  // namespace bysans::opendata
