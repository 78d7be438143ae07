// A small XML DOM for object-store answers (S3 ListObjectsV2, multipart
// replies and errors; Azure List Blobs and errors), parsed by expat. Element
// names keep no namespace prefix; text is the concatenated character data of
// the element itself. Input from the network: depth and size are bounded and
// every malformed document is an error, never a crash (fuzz/xml_fuzz.cc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace timestore::tiering {

struct XmlNode {
  std::string name;
  std::string text;
  std::vector<XmlNode> children;

  // The first child named `name`, or null.
  const XmlNode* Child(std::string_view name) const;
  // Every child named `name`, in document order.
  std::vector<const XmlNode*> Children(std::string_view name) const;
  // The text of the first child named `name` ("" when absent).
  std::string ChildText(std::string_view name) const;
};

inline constexpr size_t kMaxXmlDepth = 32;
inline constexpr size_t kMaxXmlBytes = 64u << 20;

// The root element of `xml`; InvalidArgument naming the line and problem.
absl::StatusOr<XmlNode> ParseXml(std::string_view xml);

// Escapes & < > " ' for element text and attribute values.
std::string XmlEscape(std::string_view s);

}  // namespace timestore::tiering
