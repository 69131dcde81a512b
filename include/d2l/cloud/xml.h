#pragma once
/// \file d2l/cloud/xml.h
/// A small element tree of an XML document (the replies of AWS's Query APIs, such as EC2's),
/// parsed by expat. Only elements and their text: attributes and namespaces are not kept.
#include <string>
#include <vector>

namespace d2l::cloud {

/// One element: its name (without a namespace prefix), its text (the character data directly
/// inside it, trimmed) and its child elements in document order.
struct XmlNode {
  std::string name;               ///< the element's name, e.g. `instanceId`
  std::string text;               ///< its own character data, leading and trailing space removed
  std::vector<XmlNode> children;  ///< its child elements
  /// The first child named `name`, nullptr when none.
  const XmlNode* child(const std::string& name) const;
  /// The text of the first child named `name`, "" when none.
  std::string child_text(const std::string& name) const;
  /// The node reached by following child names (`{"instanceState", "name"}`), nullptr if absent.
  const XmlNode* path(const std::vector<std::string>& names) const;
  /// All children named `name`, in order.
  std::vector<const XmlNode*> all(const std::string& name) const;
};

/// Parses `text` into its root element. Throws d2l::Error naming `origin` and the line of the
/// fault for text that is not well-formed XML, and when this build has no expat (install
/// libexpat1-dev and rebuild).
XmlNode parse_xml(const std::string& text, const std::string& origin);

/// True when this build can parse XML (it was built with expat), and so talk to EC2.
bool have_xml();

}  // namespace d2l::cloud
