--[[
The manuscript's submission layout, one pandoc Lua filter for Quarto and qrender alike (`filters:` in
_quarto.yml; Quarto runs it `at: pre-ast`, before its own filters, qrender on its finished AST).

1. A figure whose image file does not exist stops the build, naming the file (pandoc alone would only
   warn and print the caption where the figure should be).
2. With `qrender: floats: end` in _quarto.yml, the Word and PDF outputs carry the tables and figures
   after the references, each on a page of its own, with the figure legends listed first on a page
   of their own, as many journals ask; `floats: in-text` (the default) leaves them where they are.
   HTML always keeps them in the text.

A float is a top-level block whose identifier starts with `tbl-` or `fig-`: before Quarto's filters
that is the executed cell's Div (its caption in the `tbl-cap`/`fig-cap` attribute) or a Figure; in
qrender a Table or Figure whose caption already starts with "Table 1:" or "Figure 1:".
]]

local KINDS = { tbl = "Table", fig = "Figure" }

local function setting(meta, key, default)
  local ours = meta.qrender
  if ours == nil or ours[key] == nil then
    return default
  end
  return pandoc.utils.stringify(ours[key])
end

local function exists(path)
  local file = io.open(path, "rb")
  if file then
    file:close()
    return true
  end
  return false
end

local function findable(src)
  if src:match("^%a[%w+.-]*:") then -- data:, http:, https: ...
    return true
  end
  local path = src:gsub("%%20", " ")
  if exists(path) then
    return true
  end
  local relative = path:gsub("^/", "") -- typst reads "/x" from the project folder
  for _, folder in ipairs(PANDOC_STATE.resource_path or {}) do
    if exists(pandoc.path.join({ folder, relative })) then
      return true
    end
  end
  return false
end

local function check_images(doc)
  doc:walk({
    Image = function(image)
      if not findable(image.src) then
        io.stderr:write("ERROR: figure file not found: " .. image.src .. "\n")
        os.exit(1)
      end
    end,
  })
end

local function identifier(block)
  if block.t == "Para" and #block.content == 1 and block.content[1].t == "Image" then
    return block.content[1].identifier
  end
  return block.identifier
end

local function float_kind(block)
  local id = identifier(block) or ""
  return id:match("^(tbl)%-") or id:match("^(fig)%-")
end

local function caption_text(block, kind)
  if block.t == "Div" then
    local caption = block.attributes[kind .. "-cap"]
    if caption then
      return pandoc.utils.blocks_to_inlines(pandoc.read(caption, "markdown").blocks)
    end
    local inner = nil
    block:walk({
      Figure = function(figure)
        inner = inner or figure
      end,
    })
    block = inner or block
  end
  if block.t == "Figure" or block.t == "Table" then
    return pandoc.utils.blocks_to_inlines(block.caption.long)
  end
  if block.t == "Para" then
    return block.content[1].caption
  end
  return pandoc.Inlines({})
end

local function numbered(inlines, kind, number)
  local words = KINDS[kind]
  if pandoc.utils.stringify(inlines):match("^" .. words .. " %d+") then
    return inlines
  end
  local out = pandoc.Inlines({ pandoc.Str(words), pandoc.Space(), pandoc.Str(number .. ":"), pandoc.Space() })
  out:extend(inlines)
  return out
end

local function page_break()
  if FORMAT:match("docx") then
    return pandoc.RawBlock("openxml", '<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
  end
  return pandoc.RawBlock("typst", "#pagebreak(weak: true)")
end

local function floats_at_end(doc)
  local refs = #doc.blocks
  for i, block in ipairs(doc.blocks) do
    if block.identifier == "refs" then
      refs = i
    end
  end
  local counts, legends = { tbl = 0, fig = 0 }, pandoc.Blocks({})
  for _, block in ipairs(doc.blocks) do
    local kind = float_kind(block)
    if kind then
      counts[kind] = counts[kind] + 1
      if kind == "fig" then
        legends:insert(pandoc.Para(numbered(caption_text(block, kind), kind, counts[kind])))
      end
    end
  end
  local text, moved, rest = pandoc.Blocks({}), pandoc.Blocks({}), pandoc.Blocks({})
  for i, block in ipairs(doc.blocks) do
    local kind = float_kind(block)
    local target = i <= refs and (kind and moved or text) or rest
    if kind then
      target:insert(page_break())
    end
    target:insert(block)
  end
  if #legends > 0 then
    text:insert(page_break())
    text:insert(pandoc.Header(1, "Figure legends", pandoc.Attr("figure-legends", { "unnumbered" })))
    text:extend(legends)
  end
  text:extend(moved)
  text:extend(rest)
  doc.blocks = text
  return doc
end

function Pandoc(doc)
  check_images(doc)
  local paged = FORMAT:match("docx") or FORMAT:match("typst")
  if paged and setting(doc.meta, "floats", "in-text") == "end" then
    return floats_at_end(doc)
  end
  return doc
end
