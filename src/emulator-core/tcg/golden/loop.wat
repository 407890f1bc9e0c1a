(func $r80000000 (param i32) (result i64)
  (local i64 i64 i64 i64 i64 i32 i64 i32 i32 i64)
  i32.const 0
  i64.load offset=8
  local.set 1
  i32.const 0
  i64.load offset=40
  local.set 2
  i32.const 0
  i64.load offset=80
  local.set 3
  block
    block
      local.get 0
      i32.const 2
      i32.lt_s
      if
        i64.const 2147483648
        local.set 7
        i32.const 0
        local.set 8
        i32.const 0
        local.set 9
        br 2
      end
      local.get 0
      i32.const 2
      i32.sub
      local.set 0
      i64.const 10
      local.set 2
      i64.const 0
      local.set 3
      loop
        local.get 0
        i32.const 3
        i32.lt_s
        if
          i64.const 2147483656
          local.set 7
          i32.const 0
          local.set 8
          i32.const 0
          local.set 9
          br 3
        end
        local.get 0
        i32.const 3
        i32.sub
        local.set 0
        local.get 3
        i64.const 3
        i64.add
        local.set 3
        local.get 2
        i64.const -1
        i64.add
        local.set 2
        local.get 2
        i64.const 0
        i64.ne
        if
          br 1
        else
          local.get 0
          i32.const 1
          i32.lt_s
          if
            i64.const 2147483668
            local.set 7
            i32.const 0
            local.set 8
            i32.const 0
            local.set 9
            br 4
          end
          local.get 0
          i32.const 1
          i32.sub
          local.set 0
          local.get 1
          i64.const 0
          i64.add
          local.set 10
          local.get 10
          i64.const -2
          i64.and
          local.set 10
          local.get 10
          local.set 7
          i32.const 2
          local.set 8
          i32.const 0
          local.set 9
          br 3
        end
      end
      unreachable
    end
    unreachable
  end
  i32.const 0
  local.get 2
  i64.store offset=40
  i32.const 0
  local.get 3
  i64.store offset=80
  i32.const 0
  local.get 0
  i32.lt_s
  if
    local.get 9
    if
      local.get 9
      i32.load offset=4
      i32.const 0
      i32.load offset=4096
      i32.eq
      if
        local.get 9
        i32.load
        local.tee 6
        if
          local.get 0
          local.get 6
          return_call_indirect (type 0) ;; chain
        end
      end
    else
      local.get 8
      i32.const 1
      i32.eq
      local.get 8
      i32.const 2
      i32.eq
      i32.or
      if
        local.get 7
        i32.wrap_i64
        i32.const 1
        i32.shr_u
        i32.const 4095
        i32.and
        i32.const 5
        i32.shl
        local.tee 6
        i64.load offset=32768
        local.get 7
        i64.eq
        local.get 6
        i32.load offset=32776
        i32.const 0
        i32.load offset=4144
        i32.eq
        i32.and
        local.get 6
        i32.load offset=32780
        i32.const 0
        i32.load offset=4124
        i32.eq
        i32.and
        if (result i32)
          local.get 6
          i32.load offset=32784
        else
          local.get 7
          i32.const 5
          call_indirect (type 1) ;; jitLookup
        end
        local.tee 6
        if
          local.get 0
          local.get 6
          return_call_indirect (type 0) ;; chain
        end
      end
    end
  end
  local.get 9
  if
    i32.const 0
    local.get 9
    i32.store offset=4108
    i32.const 0
    local.get 7
    i64.store offset=4128
  end
  i32.const 0
  local.get 0
  i32.store offset=4100
  i32.const 0
  local.get 8
  i32.store offset=4112
  local.get 7
)
