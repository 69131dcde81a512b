#pragma once
// Private: the compiled-in copy of data/catalog/aws.csv (see catalog_data.cpp).
namespace d2l::ops::detail {
extern const char* const kEmbeddedCatalog;
}  // namespace d2l::ops::detail
