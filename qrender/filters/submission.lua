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

local function id_kind(id)
  id = id or ""
  return id:match("^(tbl)%-") or id:match("^(fig)%-")
end

-- "tbl" or "fig" when the block is a float: it carries such an identifier, or it is an executed
-- cell (Quarto's `Div.cell`, not a markdown cell) whose output carries one.
local function float_kind(block)
  local kind = id_kind(identifier(block))
  if kind or block.t ~= "Div" or not block.classes:includes("cell") or block.classes:includes("markdown") then
    return kind
  end
  block:walk({
    Div = function(div)
      kind = kind or id_kind(div.identifier)
    end,
    Figure = function(figure)
      kind = kind or id_kind(figure.identifier)
    end,
    Image = function(image)
      kind = kind or id_kind(image.identifier)
    end,
  })
  return kind
end

local function caption_text(block, kind)
  local found = nil
  local function from_attribute(div)
    local caption = div.attributes[kind .. "-cap"]
    if caption and not found then
      found = pandoc.utils.blocks_to_inlines(pandoc.read(caption, "markdown").blocks)
    end
  end
  if block.t == "Div" then
    from_attribute(block)
    block:walk({ Div = from_attribute })
  end
  local function from_caption(float)
    if not found and #float.caption.long > 0 then
      found = pandoc.utils.blocks_to_inlines(float.caption.long)
    end
  end
  if block.t == "Figure" or block.t == "Table" then
    from_caption(block)
  end
  block:walk({ Figure = from_caption, Table = from_caption })
  if not found and block.t == "Para" then
    found = block.content[1].caption
  end
  return found or pandoc.Inlines({})
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

-- Containers searched for floats and the references: Divs that are not floats themselves (Quarto
-- wraps the prose of a manuscript in `Div.cell.markdown` before its own filters run).
local function is_container(block)
  return block.t == "Div" and not float_kind(block)
end

local function figure_legends(blocks)
  local counts, legends = { tbl = 0, fig = 0 }, pandoc.Blocks({})
  local function visit(list)
    for _, block in ipairs(list) do
      local kind = float_kind(block)
      if kind then
        counts[kind] = counts[kind] + 1
        if kind == "fig" then
          legends:insert(pandoc.Para(numbered(caption_text(block, kind), kind, counts[kind])))
        end
      elseif is_container(block) then
        visit(block.content)
      end
    end
  end
  visit(blocks)
  return legends
end

local function floats_at_end(doc)
  local legends = figure_legends(doc.blocks)
  local moved, after_refs = pandoc.Blocks({}), false
  local function tail()
    local out = pandoc.Blocks({})
    if #legends > 0 then
      out:insert(page_break())
      out:insert(pandoc.Header(1, "Figure legends", pandoc.Attr("figure-legends", { "unnumbered" })))
      out:extend(legends)
    end
    out:extend(moved)
    return out
  end
  local function rearrange(list)
    local out = pandoc.Blocks({})
    for _, block in ipairs(list) do
      local kind = float_kind(block)
      if kind and not after_refs then
        moved:insert(page_break())
        moved:insert(block)
      elseif kind then
        out:insert(page_break())
        out:insert(block)
      elseif block.identifier == "refs" then
        out:insert(block)
        after_refs = true
        out:extend(tail())
      elseif is_container(block) then
        block.content = rearrange(block.content)
        out:insert(block)
      else
        out:insert(block)
      end
    end
    return out
  end
  doc.blocks = rearrange(doc.blocks)
  if not after_refs then
    doc.blocks:extend(tail())
  end
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
