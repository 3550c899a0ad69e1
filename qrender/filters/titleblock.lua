-- The title block of qrender's article in Quarto's three formats (typst, docx, html).
--
-- Quarto's own title blocks differ by format and drop most of what a journal asks for (Word and
-- HTML print author names only; typst runs the affiliations together). The pre-render step writes
-- the title block as qrender lays it out (`qrender.assemble.title_block`, from the front matter's
-- author and affiliation schema) to .cache/render/title-block.md: authors with numbered
-- affiliations, the corresponding author with e-mail, the running title, an empty
-- `.qrender-abstract` div, and the keywords. This filter reads that file, puts Quarto's evaluated
-- abstract (its `{{< var >}}` shortcodes resolved) in the div, sets the whole at the top of the body,
-- and removes what Quarto's templates would print a second time (authors, abstract, keywords).
--
-- Runs under Quarto only (`at: post-quarto`, after shortcodes); qrender puts the same block in the
-- body itself, so under plain pandoc (no `quarto` global) the filter does nothing.

local BLOCK = ".cache/render/title-block.md"

if quarto == nil then
  return {}
end

local function read_block()
  local folder = (quarto.project and quarto.project.directory) or "."
  local path = pandoc.path.join({ folder, BLOCK })
  local handle = io.open(path, "r")
  if handle == nil then
    error(path .. " not found: the pre-render step (prerender.py) writes it; run `quarto render` "
      .. "for the whole project")
  end
  local text = handle:read("a")
  handle:close()
  return pandoc.read(text, "markdown").blocks
end

local function abstract_blocks(abstract)
  if abstract == nil then
    return {}
  end
  local kind = pandoc.utils.type(abstract)
  if kind == "Inlines" then
    return { pandoc.Para(abstract) }
  elseif kind == "Blocks" then
    return abstract
  end
  return { pandoc.Para(pandoc.Inlines(pandoc.utils.stringify(abstract))) }
end

function Pandoc(doc)
  local abstract = abstract_blocks(doc.meta.abstract)
  local head = read_block():walk({
    Div = function(div)
      if div.classes:includes("qrender-abstract") then
        return abstract
      end
    end,
  })
  for _, key in ipairs({ "author", "authors", "by-author", "by-affiliation", "affiliations", "abstract",
    "keywords" }) do
    doc.meta[key] = nil
  end
  -- Quarto's project variables (`_variables.yml`), resolved by now: citeproc would collect their
  -- citations (the software sentence's) ahead of the body's and number them first
  doc.meta["_quarto-vars"] = nil
  doc.blocks = head .. doc.blocks
  return doc
end
