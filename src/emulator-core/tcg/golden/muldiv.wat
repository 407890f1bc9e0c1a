(func $r80000000 (param i32) (result i64)
  (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i32 i64 i32 i32 i64 i64 i64)
  i32.const 0
  i64.load offset=8
  local.set 1
  i32.const 0
  i64.load offset=40
  local.set 2
  i32.const 0
  i64.load offset=48
  local.set 3
  i32.const 0
  i64.load offset=56
  local.set 4
  i32.const 0
  i64.load offset=80
  local.set 5
  i32.const 0
  i64.load offset=88
  local.set 6
  i32.const 0
  i64.load offset=96
  local.set 7
  i32.const 0
  i64.load offset=104
  local.set 8
  i32.const 0
  i64.load offset=112
  local.set 9
  i32.const 0
  i64.load offset=120
  local.set 10
  i32.const 0
  i64.load offset=128
  local.set 11
  i32.const 0
  i64.load offset=136
  local.set 12
  i32.const 0
  i64.load offset=144
  local.set 13
  i32.const 0
  i64.load offset=152
  local.set 14
  i32.const 0
  i64.load offset=160
  local.set 15
  i32.const 0
  i64.load offset=168
  local.set 16
  i32.const 0
  i64.load offset=224
  local.set 17
  block
    block
      local.get 0
      i32.const 15
      i32.lt_s
      if
        i64.const 2147483648
        local.set 21
        i32.const 0
        local.set 22
        i32.const 0
        local.set 23
        br 2
      end
      local.get 0
      i32.const 15
      i32.sub
      local.set 0
      local.get 6
      local.get 7
      i64.mul
      local.set 5
      local.get 6
      local.get 7
      i32.const 0
      i32.const 6
      call_indirect (type 0) ;; jitMulh
      local.set 8
      local.get 6
      local.get 7
      i32.const 1
      i32.const 6
      call_indirect (type 0) ;; jitMulh
      local.set 9
      local.get 6
      local.get 7
      i32.const 2
      i32.const 6
      call_indirect (type 0) ;; jitMulh
      local.set 10
      local.get 6
      local.set 24
      local.get 7
      local.set 25
      local.get 25
      i64.eqz
      if (result i64)
        i64.const -1
      else
        local.get 25
        i64.const -1
        i64.eq
        if (result i64)
          i64.const 0
          local.get 24
          i64.sub
        else
          local.get 24
          local.get 25
          i64.div_s
        end
      end
      local.set 11
      local.get 6
      local.set 24
      local.get 7
      local.set 25
      local.get 25
      i64.eqz
      if (result i64)
        local.get 24
      else
        local.get 24
        local.get 25
        i64.rem_u
      end
      local.set 12
      local.get 6
      local.set 24
      local.get 7
      local.set 25
      local.get 25
      i32.wrap_i64
      i32.eqz
      if (result i64)
        i64.const -1
      else
        local.get 25
        i32.wrap_i64
        i32.const -1
        i32.eq
        if (result i64)
          i64.const 0
          local.get 24
          i64.sub
          i64.extend32_s
        else
          local.get 24
          i32.wrap_i64
          local.get 25
          i32.wrap_i64
          i32.div_s
          i64.extend_i32_s
        end
      end
      local.set 2
      local.get 6
      local.set 24
      local.get 7
      local.set 25
      local.get 25
      i32.wrap_i64
      i32.eqz
      if (result i64)
        local.get 24
        i64.extend32_s
      else
        local.get 25
        i32.wrap_i64
        i32.const -1
        i32.eq
        if (result i64)
          i64.const 0
        else
          local.get 24
          i32.wrap_i64
          local.get 25
          i32.wrap_i64
          i32.rem_s
          i64.extend_i32_s
        end
      end
      local.set 3
      i64.const 7
      local.set 4
      local.get 6
      local.set 24
      i64.const 7
      local.set 25
      local.get 24
      local.get 25
      i64.div_u
      local.set 13
      local.get 6
      local.set 24
      i64.const 7
      local.set 25
      local.get 24
      local.get 25
      i64.rem_s
      local.set 14
      i64.const -1
      local.set 17
      local.get 6
      local.set 24
      i64.const -1
      local.set 25
      local.get 25
      i64.eqz
      if (result i64)
        i64.const -1
      else
        local.get 25
        i64.const -1
        i64.eq
        if (result i64)
          i64.const 0
          local.get 24
          i64.sub
        else
          local.get 24
          local.get 25
          i64.div_s
        end
      end
      local.set 15
      local.get 6
      local.set 24
      i64.const 0
      local.set 25
      local.get 25
      i32.wrap_i64
      i32.eqz
      if (result i64)
        i64.const -1
      else
        local.get 25
        i32.wrap_i64
        i32.const -1
        i32.eq
        if (result i64)
          i64.const 0
          local.get 24
          i64.sub
          i64.extend32_s
        else
          local.get 24
          i32.wrap_i64
          local.get 25
          i32.wrap_i64
          i32.div_s
          i64.extend_i32_s
        end
      end
      local.set 16
      local.get 1
      i64.const 0
      i64.add
      local.set 26
      local.get 26
      i64.const -2
      i64.and
      local.set 26
      local.get 26
      local.set 21
      i32.const 2
      local.set 22
      i32.const 0
      local.set 23
      br 1
      unreachable
    end
    unreachable
  end
  i32.const 0
  local.get 2
  i64.store offset=40
  i32.const 0
  local.get 3
  i64.store offset=48
  i32.const 0
  local.get 4
  i64.store offset=56
  i32.const 0
  local.get 5
  i64.store offset=80
  i32.const 0
  local.get 8
  i64.store offset=104
  i32.const 0
  local.get 9
  i64.store offset=112
  i32.const 0
  local.get 10
  i64.store offset=120
  i32.const 0
  local.get 11
  i64.store offset=128
  i32.const 0
  local.get 12
  i64.store offset=136
  i32.const 0
  local.get 13
  i64.store offset=144
  i32.const 0
  local.get 14
  i64.store offset=152
  i32.const 0
  local.get 15
  i64.store offset=160
  i32.const 0
  local.get 16
  i64.store offset=168
  i32.const 0
  local.get 17
  i64.store offset=224
  i32.const 0
  local.get 0
  i32.lt_s
  if
    local.get 23
    if
      local.get 23
      i32.load offset=4
      i32.const 0
      i32.load offset=4096
      i32.eq
      if
        local.get 23
        i32.load
        local.tee 20
        if
          local.get 0
          local.get 20
          return_call_indirect (type 1) ;; chain
        end
      end
    else
      local.get 22
      i32.const 1
      i32.eq
      local.get 22
      i32.const 2
      i32.eq
      i32.or
      if
        local.get 21
        i32.wrap_i64
        i32.const 1
        i32.shr_u
        i32.const 4095
        i32.and
        i32.const 5
        i32.shl
        local.tee 20
        i64.load offset=32768
        local.get 21
        i64.eq
        local.get 20
        i32.load offset=32776
        i32.const 0
        i32.load offset=4144
        i32.eq
        i32.and
        local.get 20
        i32.load offset=32780
        i32.const 0
        i32.load offset=4124
        i32.eq
        i32.and
        if (result i32)
          local.get 20
          i32.load offset=32784
        else
          local.get 21
          i32.const 5
          call_indirect (type 2) ;; jitLookup
        end
        local.tee 20
        if
          local.get 0
          local.get 20
          return_call_indirect (type 1) ;; chain
        end
      end
    end
  end
  local.get 23
  if
    i32.const 0
    local.get 23
    i32.store offset=4108
    i32.const 0
    local.get 21
    i64.store offset=4128
  end
  i32.const 0
  local.get 0
  i32.store offset=4100
  i32.const 0
  local.get 22
  i32.store offset=4112
  local.get 21
)
