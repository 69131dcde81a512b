#include "d2l/cloud/xml.h"

#include "d2l/core/error.h"

#ifdef D2L_HAVE_EXPAT
#include <expat.h>
#endif

namespace d2l::cloud {

const XmlNode* XmlNode::child(const std::string& n) const {
  for (const auto& c : children)
    if (c.name == n) return &c;
  return nullptr;
}

std::string XmlNode::child_text(const std::string& n) const {
  const XmlNode* c = child(n);
  return c ? c->text : "";
}

const XmlNode* XmlNode::path(const std::vector<std::string>& names) const {
  const XmlNode* at = this;
  for (const auto& n : names) {
    at = at->child(n);
    if (!at) return nullptr;
  }
  return at;
}

std::vector<const XmlNode*> XmlNode::all(const std::string& n) const {
  std::vector<const XmlNode*> out;
  for (const auto& c : children)
    if (c.name == n) out.push_back(&c);
  return out;
}

#ifdef D2L_HAVE_EXPAT

namespace {
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

struct Builder {
  XmlNode root;
  std::vector<XmlNode*> stack;
  bool have_root = false;
};

void on_start(void* user, const XML_Char* name, const XML_Char**) {
  auto* b = static_cast<Builder*>(user);
  std::string n = name;
  const auto colon = n.rfind(':');
  if (colon != std::string::npos) n = n.substr(colon + 1);
  if (b->stack.empty()) {
    b->root.name = n;
    b->have_root = true;
    b->stack.push_back(&b->root);
    return;
  }
  XmlNode* parent = b->stack.back();
  parent->children.push_back(XmlNode{n, "", {}});
  b->stack.push_back(&parent->children.back());
}

void on_end(void* user, const XML_Char*) {
  auto* b = static_cast<Builder*>(user);
  if (!b->stack.empty()) {
    b->stack.back()->text = trim(b->stack.back()->text);
    b->stack.pop_back();
  }
}

void on_text(void* user, const XML_Char* s, int len) {
  auto* b = static_cast<Builder*>(user);
  if (!b->stack.empty()) b->stack.back()->text.append(s, static_cast<std::size_t>(len));
}
}  // namespace

XmlNode parse_xml(const std::string& text, const std::string& origin) {
  // A node's children vector may grow while a pointer to an earlier sibling sits on the stack
  // only for nodes already closed, so the pointers on the stack (each the last child) stay valid.
  Builder b;
  XML_Parser p = XML_ParserCreate(nullptr);
  if (!p) throw Error(origin + ": cannot create an XML parser");
  XML_SetUserData(p, &b);
  XML_SetElementHandler(p, on_start, on_end);
  XML_SetCharacterDataHandler(p, on_text);
  const auto ok = XML_Parse(p, text.data(), static_cast<int>(text.size()), 1);
  if (ok == XML_STATUS_ERROR) {
    const std::string why = XML_ErrorString(XML_GetErrorCode(p));
    const auto line = XML_GetCurrentLineNumber(p);
    XML_ParserFree(p);
    throw Error(origin + ": not well-formed XML at line " + std::to_string(line) + ": " + why);
  }
  XML_ParserFree(p);
  if (!b.have_root) throw Error(origin + ": empty XML reply");
  return std::move(b.root);
}

bool have_xml() { return true; }

#else

XmlNode parse_xml(const std::string&, const std::string& origin) {
  throw Error(origin +
              ": this d2l was built without expat, so it cannot read AWS's XML replies "
              "(install libexpat1-dev and rebuild)");
}

bool have_xml() { return false; }

#endif

}  // namespace d2l::cloud
